package vulndata

import (
	"fmt"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// Assessed is a finding with its exposure decided.
type Assessed struct {
	Finding
	// Exposed is true when the entry has no condition or its condition holds (or could not
	// be decided: then Err says why).
	Exposed bool
	// Why says what decided the exposure.
	Why string
	Err error
}

// Assess de-duplicates findings (one per CVE and source package: libssl3 and openssl are
// one finding) and decides each one's condition with ev.
func (ev *Evaluator) Assess(findings []Finding) []Assessed {
	seen := map[string]bool{}
	cache := map[string]Assessed{}
	var out []Assessed
	for _, f := range findings {
		key := f.Entry.CVE + "\x00" + f.Entry.Package
		if seen[key] {
			continue
		}
		seen[key] = true
		a := Assessed{Finding: f, Exposed: true}
		if f.Entry.Condition != "" {
			if c, ok := cache[f.Entry.Condition]; ok {
				a.Exposed, a.Why, a.Err = c.Exposed, c.Why, c.Err
			} else if cond, err := ParseCondition(f.Entry.Condition); err != nil {
				a.Err = err
			} else {
				a.Exposed, a.Why, a.Err = ev.Exposed(cond)
				cache[f.Entry.Condition] = a
			}
			if a.Err != nil {
				a.Exposed = true
			}
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(x, y Assessed) int {
		if c := strings.Compare(x.Entry.CVE, y.Entry.CVE); c != 0 {
			return c
		}
		return strings.Compare(x.Entry.Package, y.Entry.Package)
	})
	return out
}

// EnumID is a CVE id as an enum fact value ("cve-2024-6387").
func EnumID(cve string) string { return strings.ToLower(cve) }

// Result builds the result of a vulnerable-version check from assessed findings; what names
// the software checked ("installed packages", "OpenSSH"). It fails when a finding exists, at
// the highest severity among exposed findings, or low when every finding's condition is not
// met. Facts (declared the same way by every check that uses them): vulnerable and exposed
// counts, and parallel lists cves, packages, installed_versions and fixed_versions.
func Result(assessed []Assessed, what string) checks.Result {
	var cves, pkgs, installed, fixed []string
	exposed := 0
	worst := catalog.SeverityLow
	for _, a := range assessed {
		cves = append(cves, EnumID(a.Entry.CVE))
		pkgs = append(pkgs, a.Entry.Package)
		installed = append(installed, factVersion(a.Installed))
		fixed = append(fixed, factVersion(cmpOr(a.Entry.Fixed, "none")))
		if a.Exposed {
			exposed++
			if s := catalog.Severity(a.Entry.Severity); s.Rank() > worst.Rank() {
				worst = s
			}
		}
	}
	var res checks.Result
	switch {
	case len(assessed) == 0:
		res = checks.Pass("no known-vulnerable version in %s (curated list)", what)
	case exposed == 0:
		res = checks.Fail("%d known-vulnerable version(s) in %s, none exposed in this configuration: %s", len(assessed), what, cveList(assessed)).
			WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Fail("%d known-vulnerable version(s) in %s (%d exposed): %s", len(assessed), what, exposed, cveList(assessed)).
			WithSeverity(worst)
	}
	for _, a := range assessed {
		res = res.Detail("%s", a.describe())
	}
	return res.Int("vulnerable", int64(len(assessed))).Int("exposed", int64(exposed)).
		Enums("cves", orEmpty(cves)).Enums("packages", orEmpty(pkgs)).
		Enums("installed_versions", orEmpty(installed)).Enums("fixed_versions", orEmpty(fixed))
}

// cmpOr returns v, or def when v is empty.
func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// factVersion makes a version fit the version fact grammar (64 characters at most).
func factVersion(v string) string {
	if len(v) > 64 {
		return v[:64]
	}
	return v
}

func cveList(assessed []Assessed) string {
	var names []string
	for _, a := range assessed {
		n := a.Entry.CVE
		if a.Entry.Name != "" {
			n += " (" + a.Entry.Name + ")"
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// describe is the detail line of one finding.
func (a Assessed) describe() string {
	e := a.Entry
	kind := "distribution fix"
	if a.Upstream {
		kind = "upstream fix"
	}
	s := fmt.Sprintf("%s [%s]: %s %s installed, %s %s (source %s)", e.CVE, e.Severity, a.Package, a.Installed, kind, e.Fixed, e.Source)
	if e.Distribution == Any {
		s = fmt.Sprintf("%s [%s]: %s %s installed, a build of upstream %s, bad in every build (source %s)", e.CVE, e.Severity, a.Package, a.Installed, strings.Join(e.Versions, " or "), e.Source)
	}
	switch {
	case a.Err != nil:
		s += fmt.Sprintf("; exposure unknown (%v), counted as exposed", a.Err)
	case e.Condition != "" && a.Exposed:
		s += "; exposed: " + a.Why
	case e.Condition != "":
		s += "; not exposed: " + a.Why
	}
	return s
}
