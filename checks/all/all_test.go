package all

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// TestCatalogMatchesRegisteredChecks keeps the catalog and the registered checks one-to-one.
func TestCatalogMatchesRegisteredChecks(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, f := range Families() {
		if !cat.HasFamily(f.Name) {
			t.Errorf("family %s is not declared in the catalog", f.Name)
		}
		for _, c := range f.Checks {
			id := c.ID()
			if registered[id] {
				t.Errorf("check %s is registered twice", id)
			}
			registered[id] = true
			e, ok := cat.Lookup(id)
			if !ok {
				t.Errorf("check %s has no catalog entry", id)
				continue
			}
			if e.Family() != f.Name {
				t.Errorf("check %s is registered in family %s", id, f.Name)
			}
		}
	}
	for _, id := range cat.IDs() {
		if !registered[id] {
			t.Errorf("catalog entry %s has no registered check", id)
		}
	}
	if len(registered) == 0 {
		t.Fatal("no checks registered")
	}
}

// TestEveryCheckHasPassingAndFailingFixture evaluates every fixture expectation of every
// family and requires, per check, at least one fixture that passes and one that fails.
func TestEveryCheckHasPassingAndFailingFixture(t *testing.T) {
	for _, f := range Families() {
		if len(f.Checks) == 0 {
			continue
		}
		fixtures, err := checktest.LoadAll(filepath.Join("..", f.Name, "testdata", "fixtures"))
		if err != nil {
			t.Fatalf("family %s: %v", f.Name, err)
		}
		seen := map[string]map[report.Status]bool{}
		for _, c := range f.Checks {
			seen[c.ID()] = map[report.Status]bool{}
			for _, fx := range fixtures {
				want, ok := fx.Spec.Expect[c.ID()]
				if !ok {
					continue
				}
				got := checktest.Evaluate(fx.Host, c)
				if got.Status != want {
					t.Errorf("%s on fixture %s: %s, fixture expects %s (%s)", c.ID(), fx.Name, got.Status, want, got.Message)
					continue
				}
				seen[c.ID()][got.Status] = true
			}
		}
		for id, statuses := range seen {
			if !statuses[report.StatusPass] || !statuses[report.StatusFail] {
				t.Errorf("%s needs a fixture where it passes and one where it fails (has %v)", id, statuses)
			}
		}
	}
}

// TestFixtureFactsFitTheCatalog evaluates every check on every fixture of its family: each
// fact must be declared for the check and normalise to itself — no value is dropped from the
// payload and no enum value silently becomes "other" (a check may still say "other" itself).
func TestFixtureFactsFitTheCatalog(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	hash := func(string) string { return "00000000000000000000000000000000" }
	facts := 0
	for _, f := range Families() {
		if len(f.Checks) == 0 {
			continue
		}
		fixtures, err := checktest.LoadAll(filepath.Join("..", f.Name, "testdata", "fixtures"))
		if err != nil {
			t.Fatalf("family %s: %v", f.Name, err)
		}
		for _, fx := range fixtures {
			for _, c := range f.Checks {
				entry, _ := cat.Lookup(c.ID())
				res := checktest.Evaluate(fx.Host, c)
				for key, v := range res.Facts {
					facts++
					schema, ok := entry.Facts[key]
					if !ok {
						t.Errorf("%s on %s: fact %s is not declared", c.ID(), fx.Name, key)
						continue
					}
					got, err := schema.Normalize(v, hash)
					if err != nil {
						t.Errorf("%s on %s: fact %s = %v: %v", c.ID(), fx.Name, key, v, err)
						continue
					}
					if schema.Type == catalog.FactEnum && fmt.Sprint(got) != fmt.Sprint(v) {
						t.Errorf("%s on %s: fact %s = %v is sent as %v (undeclared value)", c.ID(), fx.Name, key, v, got)
					}
				}
			}
		}
	}
	if facts == 0 {
		t.Fatal("no facts evaluated")
	}
}
