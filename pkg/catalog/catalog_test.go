package catalog_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
)

// validYAML is a small catalog that parses; the rejection tests each break one thing in it.
const validYAML = `version: 1
families:
  - name: test
    title: Test family
  - name: other
    title: Other family
checks:
  - id: test.alpha
    title: Alpha holds
    severity: high
    live: true
    rationale: Because alpha.
    remediation: Make alpha hold.
    references:
      - title: Benchmark 1.2.3
        url: https://example.com/b
    facts:
      count:
        type: int
        description: a count
        min: 0
        max: 10
      mode:
        type: enum
        description: the mode
        values: [on, off, auto-1]
      ports:
        type: port
        description: listening ports
        list: true
        max_items: 3
  - id: other.beta-two
    title: Beta holds
    severity: info
    rationale: Because beta.
    remediation: Make beta hold.
    references:
      - title: Doc
`

func mustParse(t *testing.T, y string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse([]byte(y))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestParseValid(t *testing.T) {
	c := mustParse(t, validYAML)
	if got := c.IDs(); !slices.Equal(got, []string{"other.beta-two", "test.alpha"}) {
		t.Errorf("IDs() = %v (want sorted)", got)
	}
	e, ok := c.Lookup("test.alpha")
	if !ok {
		t.Fatal("Lookup(test.alpha) failed")
	}
	if e.Title != "Alpha holds" || e.Severity != catalog.SeverityHigh || !e.Live || e.Family() != "test" ||
		e.Remediation != "Make alpha hold." || len(e.References) != 1 || e.References[0].URL != "https://example.com/b" {
		t.Errorf("entry = %+v", e)
	}
	if s := e.Facts["count"]; s.Type != catalog.FactInt || *s.Min != 0 || *s.Max != 10 {
		t.Errorf("count schema = %+v", s)
	}
	if s := e.Facts["mode"]; !slices.Equal(s.Values, []string{"on", "off", "auto-1"}) {
		t.Errorf("mode values = %q (YAML on/off must stay strings)", s.Values)
	}
	if s := e.Facts["ports"]; !s.List || s.MaxItems != 3 || s.Type != catalog.FactPort {
		t.Errorf("ports schema = %+v", s)
	}
	if _, ok := c.Lookup("test.missing"); ok {
		t.Error("Lookup of an unknown ID succeeded")
	}
	if !c.HasFamily("test") || c.HasFamily("ssh") {
		t.Error("HasFamily")
	}
	if c.FamilyTitle("other") != "Other family" || c.FamilyTitle("ssh") != "ssh" {
		t.Error("FamilyTitle")
	}
	var zero catalog.Catalog
	if _, ok := zero.Lookup("test.alpha"); ok || len(zero.IDs()) != 0 {
		t.Error("the zero Catalog is not empty")
	}
}

func TestParseRejects(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(validYAML, old) {
			t.Fatalf("test bug: %q not in validYAML", old)
		}
		return strings.Replace(validYAML, old, new, 1)
	}
	betaEntry := `  - id: other.beta-two
    title: Beta holds
    severity: info
    rationale: Because beta.
    remediation: Make beta hold.
    references:
      - title: Doc
`
	countFact := `      count:
        type: int
        description: a count
        min: 0
        max: 10
`
	withFact := func(schema string) string { return replace(countFact, schema) }
	tests := map[string]string{
		"wrong version":        replace("version: 1", "version: 2"),
		"no version":           replace("version: 1\n", ""),
		"duplicate id":         replace("id: other.beta-two", "id: test.alpha"),
		"uppercase id":         replace("id: test.alpha", "id: Test.alpha"),
		"id without slug":      replace("id: test.alpha", "id: test"),
		"id with empty slug":   replace("id: test.alpha", "id: test."),
		"id with underscore":   replace("id: test.alpha", "id: test.al_pha"),
		"id with double dash":  replace("id: test.alpha", "id: test.al--pha"),
		"id with leading dash": replace("id: test.alpha", "id: test.-alpha"),
		"id with two dots":     replace("id: test.alpha", "id: test.al.pha"),
		"id with space":        replace("id: test.alpha", "id: test.al pha"),
		"undeclared family":    replace("id: test.alpha", "id: ssh.alpha"),
		"family twice":         replace("name: other", "name: test"),
		"family without title": replace("    title: Other family\n", ""),
		"bad severity":         replace("severity: high", "severity: urgent"),
		"empty severity":       replace("severity: high", "severity: ''"),
		"capital severity":     replace("severity: high", "severity: High"),
		"missing title":        replace("    title: Alpha holds\n", ""),
		"blank title":          replace("title: Alpha holds", "title: '   '"),
		"missing rationale":    replace("    rationale: Because alpha.\n", ""),
		"missing remediation":  replace("    remediation: Make alpha hold.\n", ""),
		"blank remediation":    replace("remediation: Make alpha hold.", "remediation: \"\\n\""),
		"missing references":   replace(betaEntry, strings.Replace(betaEntry, "    references:\n      - title: Doc\n", "", 1)),
		"empty references":     replace("    references:\n      - title: Doc\n", "    references: []\n"),
		"unknown top key":      replace("version: 1", "version: 1\nowner: me"),
		"unknown entry key":    replace("    live: true", "    live: true\n    owner: me"),
		"unknown fact key":     replace("        description: a count", "        description: a count\n        unit: s"),
		"unknown ref key":      replace("        url: https://example.com/b", "        url: https://example.com/b\n        page: 3"),
		"unknown family key":   replace("    title: Test family", "    title: Test family\n    icon: x"),
		"int without min":      withFact("      count:\n        type: int\n        description: a count\n        max: 10\n"),
		"int without max":      withFact("      count:\n        type: int\n        description: a count\n        min: 0\n"),
		"int min above max":    withFact("      count:\n        type: int\n        description: a count\n        min: 11\n        max: 10\n"),
		"int with values":      withFact(countFact + "        values: [a]\n"),
		"enum without values":  withFact("      count:\n        type: enum\n        description: d\n"),
		"enum empty values":    withFact("      count:\n        type: enum\n        description: d\n        values: []\n"),
		"enum uppercase value": withFact("      count:\n        type: enum\n        description: d\n        values: [Yes]\n"),
		"enum value space":     withFact("      count:\n        type: enum\n        description: d\n        values: [a b]\n"),
		"enum empty value":     withFact("      count:\n        type: enum\n        description: d\n        values: ['']\n"),
		"enum long value":      withFact("      count:\n        type: enum\n        description: d\n        values: [" + strings.Repeat("a", 65) + "]\n"),
		"bool with min":        withFact("      count:\n        type: bool\n        description: d\n        min: 0\n"),
		"version with values":  withFact("      count:\n        type: version\n        description: d\n        values: [a]\n"),
		"port with max":        withFact("      count:\n        type: port\n        description: d\n        max: 10\n"),
		"object with values":   withFact("      count:\n        type: object\n        description: d\n        values: [a]\n"),
		"unknown fact type":    withFact("      count:\n        type: string\n        description: d\n"),
		"missing fact type":    withFact("      count:\n        description: d\n"),
		"missing description":  withFact("      count:\n        type: bool\n"),
		"max_items sans list":  withFact("      count:\n        type: port\n        description: d\n        max_items: 3\n"),
		"negative max_items":   withFact("      count:\n        type: port\n        description: d\n        list: true\n        max_items: -1\n"),
		"list of bool":         withFact("      count:\n        type: bool\n        description: d\n        list: true\n"),
		"fact key uppercase":   replace("      count:\n", "      Count:\n"),
		"fact key dash":        replace("      count:\n", "      max-count:\n"),
		"fact key digit first": replace("      count:\n", "      1count:\n"),
		"fact key too long":    replace("      count:\n", "      "+strings.Repeat("c", 65)+":\n"),
		"not yaml":             "version: [1",
		"empty document":       "",
		"wrong type":           replace("    live: true", "    live: maybe"),
	}
	for name, y := range tests {
		if c, err := catalog.Parse([]byte(y)); err == nil {
			t.Errorf("%s: Parse succeeded (%d checks); want an error", name, len(c.Checks))
		}
	}
	// The longest fact key allowed is 64 characters.
	if _, err := catalog.Parse([]byte(replace("      count:\n", "      "+strings.Repeat("c", 64)+":\n"))); err != nil {
		t.Errorf("64-character fact key: %v", err)
	}
}

func TestEmbeddedCatalogLoads(t *testing.T) {
	c, err := catalog.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	seen := map[string]bool{}
	for _, e := range c.Checks {
		if seen[e.ID] {
			t.Errorf("duplicate %s", e.ID)
		}
		seen[e.ID] = true
		if got, ok := c.Lookup(e.ID); !ok || got.ID != e.ID {
			t.Errorf("Lookup(%s) failed", e.ID)
		}
		if !c.HasFamily(e.Family()) {
			t.Errorf("%s: family %s undeclared", e.ID, e.Family())
		}
		for key, s := range e.Facts {
			switch s.Type {
			case catalog.FactBool, catalog.FactInt, catalog.FactEnum, catalog.FactVersion, catalog.FactPort, catalog.FactObject:
			default:
				t.Errorf("%s: fact %s has type %q", e.ID, key, s.Type)
			}
		}
	}
	if len(c.IDs()) != len(c.Checks) {
		t.Errorf("IDs() has %d entries for %d checks", len(c.IDs()), len(c.Checks))
	}
	if len(c.Families) == 0 {
		t.Error("the embedded catalog declares no family")
	}
}

func TestSeverity(t *testing.T) {
	all := catalog.Severities()
	want := []catalog.Severity{"info", "low", "medium", "high", "critical"}
	if !slices.Equal(all, want) {
		t.Fatalf("Severities() = %v", all)
	}
	for i, s := range all {
		if s.Rank() != i || !s.Valid() {
			t.Errorf("%s: Rank %d Valid %v", s, s.Rank(), s.Valid())
		}
		p, err := catalog.ParseSeverity(string(s))
		if err != nil || p != s {
			t.Errorf("ParseSeverity(%s) = %s, %v", s, p, err)
		}
		for j, m := range all {
			if s.AtLeast(m) != (i >= j) {
				t.Errorf("%s.AtLeast(%s) = %v", s, m, s.AtLeast(m))
			}
		}
	}
	for _, bad := range []string{"", "HIGH", "urgent", " high"} {
		if _, err := catalog.ParseSeverity(bad); err == nil {
			t.Errorf("ParseSeverity(%q) succeeded", bad)
		}
		if catalog.Severity(bad).Valid() || catalog.Severity(bad).Rank() != -1 {
			t.Errorf("Severity(%q) is valid", bad)
		}
	}
}

// TestGeneratedJSONIsCurrent keeps catalog.json (embedded) in step with catalog.yaml (edited).
func TestGeneratedJSONIsCurrent(t *testing.T) {
	src, err := os.ReadFile("catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := catalog.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fromYAML.EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("catalog.json is stale: run `go generate ./pkg/catalog`")
	}
	loaded, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Checks) != len(fromYAML.Checks) || len(loaded.Checks) == 0 {
		t.Fatalf("embedded catalog has %d checks, catalog.yaml %d", len(loaded.Checks), len(fromYAML.Checks))
	}
}
