package docker

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/format"
	"github.com/securecodehq/server-audit/pkg/report"
)

// plantedSecret is the value of an environment variable of every captured container
// (testdata/capture.sh) and of every container the integration test creates.
const plantedSecret = "SA-PLANTED-SECRET"

// captureLogs sends slog's default logger to a buffer for the rest of the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// evaluated is one check's result with its ID.
type evaluated struct {
	id  string
	res checks.Result
}

// renderAll builds the local report of results as the agent would and returns the local
// JSON report and the wire payload.
func renderAll(t *testing.T, results []evaluated) (local, wire []byte) {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id, err := report.NewAuditID(started)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion, AuditID: id, Agent: report.Agent{Version: "1.0.0"},
		StartedAt: started, Host: report.Host{Root: "/", Live: true, OS: "linux", Arch: "amd64"},
	}
	for _, e := range results {
		entry, ok := cat.Lookup(e.id)
		if !ok {
			t.Fatalf("%s has no catalog entry", e.id)
		}
		sev := entry.Severity
		if e.res.Severity != "" {
			sev = e.res.Severity
		}
		r.Results = append(r.Results, report.Result{
			ID: e.id, Family: entry.Family(), Title: entry.Title, Severity: sev, Status: e.res.Status,
			Reason: e.res.Reason, Message: e.res.Message, Details: e.res.Details, Facts: e.res.Facts,
		})
	}
	r.Summary = report.Summarize(r.Results)
	var buf bytes.Buffer
	if err := format.Write(&buf, format.JSON, r, format.Options{Catalog: cat}); err != nil {
		t.Fatal(err)
	}
	p, err := r.Payload(cat, report.PayloadOptions{ObjectKey: []byte("per-host key of the leak test")})
	if err != nil {
		t.Fatal(err)
	}
	if p.DroppedFacts != 0 {
		t.Errorf("%d facts did not match their declared schema", p.DroppedFacts)
	}
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), data
}

// TestFixturesNeverLeakEnv runs every check on every fixture (whose canned inspect answers
// carry a planted secret in an environment variable) and requires the local JSON report,
// the payload and the logs to be free of it, and the payload free of container names, which
// the local report does show.
func TestFixturesNeverLeakEnv(t *testing.T) {
	logs := captureLogs(t)
	fixtures, err := checktest.LoadAll("testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	var local, wire []byte
	for _, fx := range fixtures {
		var results []evaluated
		for _, c := range checksWith(newCollector(noEnv), firewall.NewCollector()) {
			results = append(results, evaluated{c.ID(), checktest.Evaluate(fx.Host, c)})
		}
		l, w := renderAll(t, results)
		local, wire = append(local, l...), append(wire, w...)
	}
	names := []string{"seccomp-off", "sys-admin", "etc-rw", "pid-host", "root-user"}
	for _, what := range []struct {
		name string
		data []byte
	}{{"local JSON report", local}, {"payload", wire}, {"logs", logs.Bytes()}} {
		if bytes.Contains(what.data, []byte(plantedSecret)) {
			t.Errorf("the %s contains the planted secret", what.name)
		}
	}
	for _, n := range names {
		if !bytes.Contains(local, []byte(n)) {
			t.Errorf("the local report does not name container %s, so the payload test proves nothing", n)
		}
		if bytes.Contains(wire, []byte(`"`+n+`"`)) {
			t.Errorf("the payload names container %s", n)
		}
	}
	if !bytes.Contains(wire, []byte(`"docker.privileged-containers"`)) {
		t.Error("the payload lacks the docker results")
	}
}
