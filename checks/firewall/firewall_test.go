package firewall

import (
	"slices"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

func TestFixtures(t *testing.T) {
	checktest.RunFixtures(t, "testdata/fixtures", Checks(NewCollector()))
}

// TestFactsMatchCatalog: every fact a check emits on any fixture is declared in the
// catalog and fits its schema as is (no enum value falls back to "other").
func TestFactsMatchCatalog(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	fixtures, err := checktest.LoadAll("testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	list := Checks(NewCollector())
	for _, f := range fixtures {
		for _, c := range list {
			entry, ok := cat.Lookup(c.ID())
			if !ok {
				t.Fatalf("%s has no catalog entry", c.ID())
			}
			res := checktest.Evaluate(f.Host, c)
			for key, v := range res.Facts {
				schema, ok := entry.Facts[key]
				if !ok {
					t.Errorf("%s on %s: fact %s is not declared", c.ID(), f.Name, key)
					continue
				}
				got, err := schema.Normalize(v, func(string) string { return "" })
				if err != nil {
					t.Errorf("%s on %s: fact %s = %v: %v", c.ID(), f.Name, key, v, err)
					continue
				}
				if s, ok := got.(string); ok && s == catalog.OtherValue {
					t.Errorf("%s on %s: fact %s = %v is not a declared value", c.ID(), f.Name, key, v)
				}
				if l, ok := got.([]string); ok && slices.Contains(l, catalog.OtherValue) {
					t.Errorf("%s on %s: fact %s = %v has undeclared values", c.ID(), f.Name, key, v)
				}
			}
		}
	}
}
