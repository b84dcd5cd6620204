package scan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// Select filters list by --only and --skip patterns. A pattern is a check ID
// ("system.aslr") or a family name ("system"). An empty only selects everything. Unknown
// patterns are errors, so a typo never silently runs or skips the wrong checks.
func Select(list []checks.Check, cat *catalog.Catalog, only, skip []string) ([]checks.Check, error) {
	onlySet, err := expand(list, cat, only)
	if err != nil {
		return nil, fmt.Errorf("--only: %w", err)
	}
	skipSet, err := expand(list, cat, skip)
	if err != nil {
		return nil, fmt.Errorf("--skip: %w", err)
	}
	var out []checks.Check
	for _, c := range list {
		if len(only) > 0 && !onlySet[c.ID()] {
			continue
		}
		if skipSet[c.ID()] {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Expand resolves check IDs and family names to the set of check IDs they denote.
func Expand(list []checks.Check, cat *catalog.Catalog, patterns []string) (map[string]bool, error) {
	return expand(list, cat, patterns)
}

func expand(list []checks.Check, cat *catalog.Catalog, patterns []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, raw := range patterns {
		p := strings.TrimSpace(raw)
		if p == "" {
			continue
		}
		matched := false
		for _, c := range list {
			id := c.ID()
			if id == p || strings.HasPrefix(id, p+".") {
				set[id] = true
				matched = true
			}
		}
		if !matched {
			if _, ok := cat.Lookup(p); ok || cat.HasFamily(p) {
				continue // known, but no check of it is built into this agent
			}
			return nil, fmt.Errorf("unknown check or family %q (families: %s; see `server-audit checks list`)", p, strings.Join(families(list), ", "))
		}
	}
	return set, nil
}

func families(list []checks.Check) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range list {
		f, _, _ := strings.Cut(c.ID(), ".")
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}
