package packages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// aptSource is one enabled binary or source repository entry.
type aptSource struct {
	// where is "file:line" of the entry.
	where  string
	deb822 bool
	types  []string // "deb", "deb-src"
	uris   []string
	suites []string
	// trusted is [trusted=yes] / "Trusted: yes": apt skips signature checks for it.
	trusted bool
}

// sourcesState is every enabled entry of sources.list and sources.list.d.
type sourcesState struct {
	sources []aptSource
	files   int
	err     error
}

// collectSources reads /etc/apt/sources.list and /etc/apt/sources.list.d/*.list (one-line
// format) and *.sources (deb822), in apt's order.
func collectSources(_ context.Context, h host.Host) (*sourcesState, error) {
	st := &sourcesState{}
	fsys := h.FS()
	files := []string{"/etc/apt/sources.list"}
	for _, pat := range []string{"/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		more, err := host.Glob(fsys, pat)
		if err != nil {
			st.err = err
			return st, nil
		}
		files = append(files, more...)
	}
	for _, name := range files {
		data, err := host.ReadFileLimit(fsys, name, 4<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			st.err = err
			return st, nil
		}
		st.files++
		var entries []aptSource
		if strings.HasSuffix(name, ".sources") {
			entries, err = parseDeb822Sources(name, string(data))
		} else {
			entries, err = parseOneLineSources(name, string(data))
		}
		if err != nil {
			st.err = err
			return st, nil
		}
		st.sources = append(st.sources, entries...)
	}
	return st, nil
}

// parseOneLineSources parses sources.list(5) one-line entries:
// "deb [ opt=value ... ] uri suite [component ...]". Comments start with "#"; a commented
// out entry does not count. A line that starts with a type but lacks a URI and suite is
// malformed, as apt says.
func parseOneLineSources(name, data string) ([]aptSource, error) {
	var out []aptSource
	for i, line := range strings.Split(data, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(strings.ReplaceAll(line, "\t", " "))
		if line == "" {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, i+1)
		typ, rest, _ := strings.Cut(line, " ")
		if typ != "deb" && typ != "deb-src" {
			return nil, fmt.Errorf("parse %s: unknown type %q: %w", where, truncate(typ, 20), checks.ErrParse)
		}
		src := aptSource{where: where, types: []string{typ}}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("parse %s: unterminated option list: %w", where, checks.ErrParse)
			}
			for _, opt := range strings.Fields(rest[1:end]) {
				key, val, _ := strings.Cut(opt, "=")
				if strings.EqualFold(key, "trusted") && isYes(val) {
					src.trusted = true
				}
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			return nil, fmt.Errorf("parse %s: an entry needs a URI and a suite: %w", where, checks.ErrParse)
		}
		src.uris, src.suites = fields[:1], fields[1:2]
		out = append(out, src)
	}
	return out, nil
}

// parseDeb822Sources parses deb822 .sources stanzas (sources.list(5)): fields Types, URIs,
// Suites, Components, Enabled, Trusted; continuation lines start with white space; stanzas
// are separated by blank lines; "#" lines are comments. Stanzas with "Enabled: no" do not
// count.
func parseDeb822Sources(name, data string) ([]aptSource, error) {
	var out []aptSource
	fields := map[string]string{}
	last, start := "", 0
	flush := func() error {
		defer func() { fields, last = map[string]string{}, "" }()
		if len(fields) == 0 {
			return nil
		}
		where := fmt.Sprintf("%s:%d", name, start)
		if v, ok := fields["enabled"]; ok && !isYes(v) {
			return nil
		}
		src := aptSource{where: where, deb822: true, types: strings.Fields(fields["types"]),
			uris: strings.Fields(fields["uris"]), suites: strings.Fields(fields["suites"]), trusted: isYes(fields["trusted"])}
		if len(src.types) == 0 || len(src.uris) == 0 || len(src.suites) == 0 {
			return fmt.Errorf("parse %s: a stanza needs Types, URIs and Suites: %w", where, checks.ErrParse)
		}
		for _, t := range src.types {
			if t != "deb" && t != "deb-src" {
				return fmt.Errorf("parse %s: unknown type %q: %w", where, truncate(t, 20), checks.ErrParse)
			}
		}
		out = append(out, src)
		return nil
	}
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("parse %s:%d: continuation line without a field: %w", name, i+1, checks.ErrParse)
			}
			if t := strings.TrimSpace(line); t != "." {
				fields[last] += " " + t
			}
		default:
			key, val, ok := strings.Cut(line, ":")
			if !ok || strings.TrimSpace(key) == "" || strings.ContainsAny(key, " \t") {
				return nil, fmt.Errorf("parse %s:%d: not a field: %w", name, i+1, checks.ErrParse)
			}
			if len(fields) == 0 {
				start = i + 1
			}
			last = strings.ToLower(key)
			fields[last] = strings.TrimSpace(val)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// isYes reads apt's boolean spellings.
func isYes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1", "on", "enable":
		return true
	}
	return false
}

// securitySuite reports whether a suite of a binary entry is the security suite of the
// release called codename: "<codename>-security" (Debian 11+, Ubuntu), "<codename>/updates"
// (Debian 10 and older), or the "stable-security" style aliases.
func securitySuite(suite, codename string) bool {
	suite = strings.TrimSuffix(suite, "/")
	if codename != "" && (suite == codename+"-security" || suite == codename+"/updates") {
		return true
	}
	return slices.Contains([]string{"stable-security", "oldstable-security", "oldoldstable-security"}, suite) ||
		(codename == "" && strings.HasSuffix(suite, "-security"))
}
