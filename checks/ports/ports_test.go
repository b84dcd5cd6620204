package ports

import (
	"slices"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

func TestFixtures(t *testing.T) {
	checktest.RunFixtures(t, "testdata/fixtures", Checks(firewall.NewCollector()))
}

// TestCatalogDeclaresEveryValue keeps the catalog's enum lists in step with the tables: every
// service and program name the tables can produce is declared for every check that reports
// them.
func TestCatalogDeclaresEveryValue(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"services":  serviceValues(),
		"processes": processValues(),
		"scopes":    {"any", "private", "public"},
		"protocols": {"tcp", "udp"},
		"firewall":  {"admitted", "restricted", "blocked", "unknown"},
	}
	for _, c := range Checks(firewall.NewCollector()) {
		entry, ok := cat.Lookup(c.ID())
		if !ok {
			t.Fatalf("%s has no catalog entry", c.ID())
		}
		if _, ok := entry.Facts["services"]; !ok {
			t.Errorf("%s declares no services fact", c.ID())
		}
		for key, values := range want {
			schema, ok := entry.Facts[key]
			if !ok {
				continue
			}
			for _, v := range values {
				if v != catalog.OtherValue && !slices.Contains(schema.Values, v) {
					t.Errorf("%s: %s does not declare %q", c.ID(), key, v)
				}
			}
		}
	}
}

// TestStatusesPerFixture pins the few results whose severity or reason matters beyond the
// status.
func TestStatusesPerFixture(t *testing.T) {
	list := Checks(firewall.NewCollector())
	byID := map[string]int{}
	for i, c := range list {
		byID[c.ID()] = i
	}
	fixtures, err := checktest.LoadAll("testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		switch f.Name {
		case "malformed":
			for _, c := range list {
				if res := checktest.Evaluate(f.Host, c); res.Reason != report.ReasonParseError {
					t.Errorf("%s on malformed: %s/%s, want error parse_error", c.ID(), res.Status, res.Reason)
				}
			}
		case "offline":
			for _, c := range list {
				if res := checktest.Evaluate(f.Host, c); res.Reason != report.ReasonNotLive {
					t.Errorf("%s offline: %s/%s, want skip not_live", c.ID(), res.Status, res.Reason)
				}
			}
		case "non-root":
			res := checktest.Evaluate(f.Host, list[byID["ports.cleartext-services"]])
			if got := res.Facts["processes"]; !slices.Equal(got.([]string), []string{"unknown"}) {
				t.Errorf("non-root telnet process = %v, want [unknown]", got)
			}
			inv := checktest.Evaluate(f.Host, list[byID["ports.inventory"]])
			if inv.Facts["owners_complete"] != false || inv.Facts["unattributed"] != int64(2) {
				t.Errorf("non-root inventory facts = %v", inv.Facts)
			}
		case "exposed-host":
			res := checktest.Evaluate(f.Host, list[byID["ports.docker-api"]])
			if res.Severity != "" {
				t.Errorf("docker 2375 severity lowered to %s", res.Severity)
			}
			// Redis on 0.0.0.0 and an empty ruleset: critical.
			if res := checktest.Evaluate(f.Host, list[byID["ports.datastores"]]); res.Severity != "" {
				t.Errorf("exposed Redis admitted by the firewall: severity %s, want the catalog's critical", res.Severity)
			}
		case "lan-server":
			// Redis on 0.0.0.0 but admitted from 10.0.0.0/8 only: high.
			if res := checktest.Evaluate(f.Host, list[byID["ports.datastores"]]); res.Severity != catalog.SeverityHigh {
				t.Errorf("source-restricted Redis: severity %q, want high", res.Severity)
			}
		}
	}
}

// serviceValues lists every service name the tables can produce, for the catalog test.
func serviceValues() []string {
	seen := map[string]bool{svcOther: true}
	for _, s := range portServices {
		seen[s] = true
	}
	for _, p := range knownProcesses {
		if p.service != "" {
			seen[p.service] = true
		}
	}
	return sortedKeys(seen)
}

// processValues lists every process enum value the tables can produce.
func processValues() []string {
	seen := map[string]bool{procUnknown: true, procNone: true, procOther: true}
	for _, p := range knownProcesses {
		seen[p.enum] = true
	}
	return sortedKeys(seen)
}

// sortedKeys returns the keys of a set, sorted.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
