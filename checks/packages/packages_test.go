package packages

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks/checktest"
)

// testNow is the clock of the fixtures: end-of-life day counts and list ages are measured
// from it, so goldens do not change with the date.
var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// setListTimes gives the apt lists of every fixture a modification time testNow minus the
// days in the fixture's lists-age file (1 when absent): git does not keep mtimes, and the
// list age is measured from them.
func setListTimes(t *testing.T, dir string) {
	t.Helper()
	fixtures, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range fixtures {
		days := 1
		if data, err := os.ReadFile(filepath.Join(dir, fx.Name(), "lists-age")); err == nil {
			if days, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
				t.Fatalf("%s/lists-age: %v", fx.Name(), err)
			}
		}
		lists := filepath.Join(dir, fx.Name(), "root", "var", "lib", "apt", "lists")
		entries, err := os.ReadDir(lists)
		if err != nil {
			continue
		}
		when := testNow.Add(-time.Duration(days)*24*time.Hour - time.Hour)
		for _, e := range entries {
			if err := os.Chtimes(filepath.Join(lists, e.Name()), when, when); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestFixtures(t *testing.T) {
	setListTimes(t, "testdata/fixtures")
	checktest.RunFixtures(t, "testdata/fixtures", checksAt(func() time.Time { return testNow }))
}
