package all

import (
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
