package checktest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/golden"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Timeout bounds each check run by Evaluate.
const Timeout = 10 * time.Second

// Evaluate runs one check as the scanner would, turning a returned error into a skip or
// error result.
func Evaluate(h host.Host, c checks.Check) checks.Result {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	res, err := c.Run(ctx, h)
	if err != nil {
		return checks.FromError("evaluate", err)
	}
	return res
}

// goldenResult is the golden-file form of a result.
type goldenResult struct {
	Status   report.Status `json:"status"`
	Reason   report.Reason `json:"reason,omitempty"`
	Severity string        `json:"severity,omitempty"`
	Message  string        `json:"message"`
	Facts    report.Facts  `json:"facts,omitempty"`
	Details  []string      `json:"details,omitempty"`
}

// RunFixtures runs every check in list against every fixture under dir, asserts each
// fixture's expected statuses and compares all results with the fixture's golden.json.
// It returns the fixtures for further assertions.
func RunFixtures(t *testing.T, dir string, list []checks.Check) []*Fixture {
	t.Helper()
	fixtures, err := LoadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) == 0 {
		t.Fatalf("no fixtures under %s", dir)
	}
	byID := map[string]checks.Check{}
	for _, c := range list {
		byID[c.ID()] = c
	}
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			for id := range f.Spec.Expect {
				if byID[id] == nil {
					t.Errorf("expect names unknown check %s", id)
				}
			}
			got := map[string]goldenResult{}
			for _, c := range list {
				res := Evaluate(f.Host, c)
				got[c.ID()] = goldenResult{
					Status: res.Status, Reason: res.Reason, Severity: string(res.Severity),
					Message: res.Message, Facts: res.Facts, Details: res.Details,
				}
				if want, ok := f.Spec.Expect[c.ID()]; ok && res.Status != want {
					t.Errorf("%s: status %s, want %s (%s: %s)", c.ID(), res.Status, want, res.Reason, res.Message)
				}
			}
			data, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join(f.Dir, "golden.json"), append(data, '\n'))
		})
	}
	return fixtures
}
