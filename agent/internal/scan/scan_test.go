package scan_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/agent/internal/scan"
	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// testCatalog declares test.c00 … test.cNN (medium) plus a few named checks.
func testCatalog(t *testing.T, numbered int) *catalog.Catalog {
	t.Helper()
	var b strings.Builder
	b.WriteString(`version: 1
families:
  - name: test
    title: Test checks
checks:
  - id: test.high
    title: High holds
    severity: high
    rationale: r
    remediation: Fix the high thing.
    references: [{title: ref}]
    facts:
      count: {type: int, description: d, min: 0, max: 100}
      mode: {type: enum, description: d, values: [on, off]}
  - id: test.critical
    title: Critical holds
    severity: critical
    rationale: r
    remediation: Fix the critical thing.
    references: [{title: ref}]
  - id: test.low
    title: Low holds
    severity: low
    rationale: r
    remediation: Fix the low thing.
    references: [{title: ref}]
`)
	for i := range numbered {
		fmt.Fprintf(&b, `  - id: test.c%02d
    title: Numbered %d
    severity: medium
    rationale: r
    remediation: Fix number %d.
    references: [{title: ref}]
    facts:
      n: {type: int, description: d, min: 0, max: 1000}
`, i, i, i)
	}
	cat, err := catalog.Parse([]byte(b.String()))
	if err != nil {
		t.Fatalf("test catalog: %v", err)
	}
	return cat
}

// fake is a check whose behaviour is a function.
type fake struct {
	id    string
	run   func(ctx context.Context, h host.Host) (checks.Result, error)
	calls atomic.Int32
}

func (f *fake) ID() string { return f.id }

func (f *fake) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	f.calls.Add(1)
	return f.run(ctx, h)
}

func newFake(id string, run func(ctx context.Context, h host.Host) (checks.Result, error)) *fake {
	return &fake{id: id, run: run}
}

func returns(res checks.Result, err error) func(context.Context, host.Host) (checks.Result, error) {
	return func(context.Context, host.Host) (checks.Result, error) { return res, err }
}

// offline is a host for checks that do not touch it.
func offline(t *testing.T) host.Host {
	t.Helper()
	h, err := host.New(host.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func byID(results []report.Result) map[string]report.Result {
	m := map[string]report.Result{}
	for _, r := range results {
		m[r.ID] = r
	}
	return m
}

func TestResultsInInputOrder(t *testing.T) {
	const n = 24
	cat := testCatalog(t, n)
	var running, maxRunning atomic.Int32
	var list []checks.Check
	for i := range n {
		list = append(list, newFake(fmt.Sprintf("test.c%02d", i), func(ctx context.Context, _ host.Host) (checks.Result, error) {
			cur := running.Add(1)
			defer running.Add(-1)
			for {
				m := maxRunning.Load()
				if cur <= m || maxRunning.CompareAndSwap(m, cur) {
					break
				}
			}
			// Earlier checks take longer, so finishing order differs from input order.
			time.Sleep(time.Duration(n-i) * time.Millisecond)
			return checks.Pass("number %d", i).Int("n", int64(i)), nil
		}))
	}
	// Reverse the list so that the order is not the catalog's either.
	slices.Reverse(list)
	results := scan.Run(context.Background(), offline(t), cat, list, scan.Options{Concurrency: 4})
	if len(results) != n {
		t.Fatalf("%d results for %d checks", len(results), n)
	}
	for i, r := range results {
		if r.ID != list[i].ID() {
			t.Fatalf("results[%d].ID = %s, want %s (input order)", i, r.ID, list[i].ID())
		}
		want := int64(n - 1 - i)
		if r.Status != report.StatusPass || r.Facts["n"] != want || r.Message != fmt.Sprintf("number %d", want) {
			t.Errorf("results[%d] = %+v; want pass with n=%d", i, r, want)
		}
		if r.Family != "test" || r.Title != fmt.Sprintf("Numbered %d", want) || r.Severity != catalog.SeverityMedium {
			t.Errorf("results[%d]: catalog fields %s/%q/%s", i, r.Family, r.Title, r.Severity)
		}
		if r.Remediation != "" {
			t.Errorf("results[%d]: a pass carries remediation %q", i, r.Remediation)
		}
		if r.DurationMS <= 0 {
			t.Errorf("results[%d].DurationMS = %v", i, r.DurationMS)
		}
	}
	if m := maxRunning.Load(); m > 4 {
		t.Errorf("%d checks ran at once with Concurrency 4", m)
	}
}

func TestConcurrencyIsUsed(t *testing.T) {
	// Four checks that each wait for all four to be running: this completes only when the
	// scanner really runs four at once.
	cat := testCatalog(t, 4)
	var wg sync.WaitGroup
	wg.Add(4)
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	var list []checks.Check
	for i := range 4 {
		list = append(list, newFake(fmt.Sprintf("test.c%02d", i), func(ctx context.Context, _ host.Host) (checks.Result, error) {
			wg.Done()
			select {
			case <-all:
				return checks.Pass("together"), nil
			case <-ctx.Done():
				return checks.Result{}, ctx.Err()
			}
		}))
	}
	results := scan.Run(context.Background(), offline(t), cat, list, scan.Options{Concurrency: 4, CheckTimeout: 10 * time.Second})
	for _, r := range results {
		if r.Status != report.StatusPass {
			t.Errorf("%s: %s/%s %q; the checks did not run concurrently", r.ID, r.Status, r.Reason, r.Message)
		}
	}
}

func TestConcurrencyOne(t *testing.T) {
	cat := testCatalog(t, 6)
	var running, maxRunning atomic.Int32
	var list []checks.Check
	for i := range 6 {
		list = append(list, newFake(fmt.Sprintf("test.c%02d", i), func(context.Context, host.Host) (checks.Result, error) {
			if cur := running.Add(1); cur > maxRunning.Load() {
				maxRunning.Store(cur)
			}
			time.Sleep(2 * time.Millisecond)
			running.Add(-1)
			return checks.Pass("ok"), nil
		}))
	}
	scan.Run(context.Background(), offline(t), cat, list, scan.Options{Concurrency: 1})
	if m := maxRunning.Load(); m != 1 {
		t.Errorf("%d checks ran at once with Concurrency 1", m)
	}
}

func TestPanicBecomesError(t *testing.T) {
	cat := testCatalog(t, 3)
	list := []checks.Check{
		newFake("test.c00", returns(checks.Pass("before"), nil)),
		newFake("test.c01", func(context.Context, host.Host) (checks.Result, error) {
			var m map[string]int
			m["boom"]++ // a nil-map write: a runtime panic
			return checks.Pass("unreachable"), nil
		}),
		newFake("test.high", func(context.Context, host.Host) (checks.Result, error) {
			panic("check exploded")
		}),
		newFake("test.c02", returns(checks.Fail("after"), nil)),
	}
	results := scan.Run(context.Background(), offline(t), cat, list, scan.Options{})
	for _, i := range []int{1, 2} {
		r := results[i]
		if r.Status != report.StatusError || r.Reason != report.ReasonPanic {
			t.Errorf("%s: %s/%s, want error/panic", r.ID, r.Status, r.Reason)
		}
		if r.Remediation != "" || r.Facts != nil {
			t.Errorf("%s: a panicked check carries remediation or facts", r.ID)
		}
	}
	if !strings.Contains(results[2].Message, "check exploded") {
		t.Errorf("panic message = %q", results[2].Message)
	}
	if !strings.Contains(results[1].Message, "nil map") {
		t.Errorf("runtime panic message = %q", results[1].Message)
	}
	if len(results[2].Details) == 0 || !strings.Contains(strings.Join(results[2].Details, "\n"), "scan_test.go") {
		t.Errorf("panic details should carry the stack: %q", results[2].Details)
	}
	if results[0].Status != report.StatusPass || results[3].Status != report.StatusFail {
		t.Errorf("other checks: %s, %s", results[0].Status, results[3].Status)
	}
}

func TestCheckIgnoringContextTimesOut(t *testing.T) {
	cat := testCatalog(t, 2)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuck := newFake("test.c00", func(context.Context, host.Host) (checks.Result, error) {
		<-release // ignores its context
		return checks.Pass("too late"), nil
	})
	polite := newFake("test.c01", func(ctx context.Context, _ host.Host) (checks.Result, error) {
		<-ctx.Done()
		return checks.Result{}, ctx.Err()
	})
	quick := newFake("test.high", returns(checks.Pass("quick"), nil))
	const timeout = 300 * time.Millisecond
	start := time.Now()
	results := scan.Run(context.Background(), offline(t), cat, []checks.Check{stuck, polite, quick}, scan.Options{CheckTimeout: timeout})
	elapsed := time.Since(start)
	if elapsed > 5*timeout {
		t.Errorf("Run took %v with a %v check timeout", elapsed, timeout)
	}
	for _, r := range results[:2] {
		if r.Status != report.StatusError || r.Reason != report.ReasonTimeout {
			t.Errorf("%s: %s/%s %q, want error/timeout", r.ID, r.Status, r.Reason, r.Message)
		}
	}
	if results[2].Status != report.StatusPass {
		t.Errorf("quick check: %s", results[2].Status)
	}
}

func TestWholeAuditContext(t *testing.T) {
	cat := testCatalog(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var list []checks.Check
	for i := range 3 {
		list = append(list, newFake(fmt.Sprintf("test.c%02d", i), func(ctx context.Context, _ host.Host) (checks.Result, error) {
			<-ctx.Done()
			return checks.Result{}, ctx.Err()
		}))
	}
	start := time.Now()
	results := scan.Run(ctx, offline(t), cat, list, scan.Options{CheckTimeout: time.Minute})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run with a cancelled context took %v", d)
	}
	for _, r := range results {
		if r.Status != report.StatusError {
			t.Errorf("%s: %s, want error", r.ID, r.Status)
		}
	}
}

func TestErrorsAreClassified(t *testing.T) {
	cat := testCatalog(t, 5)
	list := []checks.Check{
		newFake("test.c00", returns(checks.Result{}, fmt.Errorf("read /etc/x: %w", fs.ErrNotExist))),
		newFake("test.c01", returns(checks.Result{}, &fs.PathError{Op: "open", Path: "/etc/shadow", Err: fs.ErrPermission})),
		newFake("test.c02", returns(checks.Result{}, fmt.Errorf("sshd -T: %w", host.ErrCommandNotFound))),
		newFake("test.c03", returns(checks.Result{}, fmt.Errorf("line 3: %w", checks.ErrParse))),
		// An error wins over the result returned with it.
		newFake("test.c04", returns(checks.Pass("looks fine"), errors.New("disk on fire"))),
	}
	results := scan.Run(context.Background(), offline(t), cat, list, scan.Options{})
	want := []struct {
		status report.Status
		reason report.Reason
	}{
		{report.StatusSkip, report.ReasonNotFound},
		{report.StatusSkip, report.ReasonNeedsRoot},
		{report.StatusSkip, report.ReasonNotInstalled},
		{report.StatusError, report.ReasonParseError},
		{report.StatusError, report.ReasonIOError},
	}
	for i, w := range want {
		r := results[i]
		if r.Status != w.status || r.Reason != w.reason {
			t.Errorf("%s: %s/%s, want %s/%s", r.ID, r.Status, r.Reason, w.status, w.reason)
		}
	}
	if !strings.Contains(results[0].Message, "/etc/x") {
		t.Errorf("skip message %q should carry the error", results[0].Message)
	}
	if !strings.Contains(results[4].Message, "disk on fire") {
		t.Errorf("error message %q should carry the error", results[4].Message)
	}
}

func TestInvalidResultsBecomeInternalErrors(t *testing.T) {
	cat := testCatalog(t, 0) // test.high is high
	tests := map[string]checks.Result{
		"unknown status":          {Status: "maybe"},
		"empty status":            {},
		"skip without reason":     checks.Skip("", "no reason"),
		"skip with unknown":       checks.Skip("because", "bad reason"),
		"error without reason":    checks.Error("", "no reason"),
		"skip claims suppressed":  checks.Skip(report.ReasonSuppressed, "checks cannot suppress themselves"),
		"reason on pass":          {Status: report.StatusPass, Reason: report.ReasonNotFound},
		"reason on fail":          {Status: report.StatusFail, Reason: report.ReasonTimeout},
		"severity above catalog":  checks.Fail("x").WithSeverity(catalog.SeverityCritical),
		"severity unknown":        checks.Fail("x").WithSeverity("urgent"),
		"severity above on pass":  checks.Pass("x").WithSeverity(catalog.SeverityCritical),
		"severity above and skip": checks.Skip(report.ReasonNotFound, "x").WithSeverity(catalog.SeverityCritical),
	}
	for name, res := range tests {
		f := newFake("test.high", returns(res.Int("count", 5).Detail("secret detail"), nil))
		r := scan.Run(context.Background(), offline(t), cat, []checks.Check{f}, scan.Options{})[0]
		if r.Status != report.StatusError || r.Reason != report.ReasonInternal {
			t.Errorf("%s: %s/%s %q, want error/internal", name, r.Status, r.Reason, r.Message)
			continue
		}
		if r.Severity != catalog.SeverityHigh {
			t.Errorf("%s: severity %s, want the catalog's high", name, r.Severity)
		}
		if r.Facts != nil {
			t.Errorf("%s: an invalid result's facts were kept: %v", name, r.Facts)
		}
		if !strings.Contains(r.Message, "invalid result") {
			t.Errorf("%s: message %q", name, r.Message)
		}
	}
}

func TestSeverityOverride(t *testing.T) {
	cat := testCatalog(t, 0)
	list := []checks.Check{
		newFake("test.high", returns(checks.Fail("legacy setting").WithSeverity(catalog.SeverityLow), nil)),
		newFake("test.critical", returns(checks.Fail("same").WithSeverity(catalog.SeverityCritical), nil)),
		newFake("test.low", returns(checks.Fail("none"), nil)),
	}
	results := scan.Run(context.Background(), offline(t), cat, list, scan.Options{})
	want := []catalog.Severity{catalog.SeverityLow, catalog.SeverityCritical, catalog.SeverityLow}
	for i, r := range results {
		if r.Status != report.StatusFail || r.Severity != want[i] {
			t.Errorf("%s: %s severity %s, want fail %s", r.ID, r.Status, r.Severity, want[i])
		}
	}
}

func TestSuppressedChecksAreNotRun(t *testing.T) {
	cat := testCatalog(t, 2)
	suppressed := newFake("test.high", returns(checks.Fail("should not run"), nil))
	other := newFake("test.c00", returns(checks.Fail("runs"), nil))
	sup := report.Suppression{Reason: "accepted risk, ticket OPS-12", Until: "2030-01-31"}
	results := scan.Run(context.Background(), offline(t), cat, []checks.Check{suppressed, other}, scan.Options{
		Suppressed: map[string]report.Suppression{"test.high": sup, "test.unknown": {Reason: "x"}},
	})
	if n := suppressed.calls.Load(); n != 0 {
		t.Errorf("the suppressed check ran %d times", n)
	}
	if n := other.calls.Load(); n != 1 {
		t.Errorf("the other check ran %d times", n)
	}
	r := results[0]
	if r.Status != report.StatusSkip || r.Reason != report.ReasonSuppressed || !r.Suppressed() {
		t.Errorf("suppressed result: %s/%s", r.Status, r.Reason)
	}
	if r.Suppression == nil || *r.Suppression != sup {
		t.Errorf("Suppression = %+v, want %+v", r.Suppression, sup)
	}
	if r.ID != "test.high" || r.Severity != catalog.SeverityHigh || r.Title != "High holds" || r.Remediation != "" {
		t.Errorf("suppressed result fields: %+v", r)
	}
	if results[1].Status != report.StatusFail || results[1].Suppression != nil {
		t.Errorf("other result: %+v", results[1])
	}
}

func TestFailuresCarryRemediationAndFacts(t *testing.T) {
	cat := testCatalog(t, 0)
	list := []checks.Check{
		newFake("test.high", returns(checks.Fail("bad").Int("count", 7).Enum("mode", "on").Detail("in /etc/x"), nil)),
		newFake("test.low", returns(checks.Pass("good"), nil)),
		newFake("test.critical", returns(checks.Skip(report.ReasonNotApplicable, "n/a"), nil)),
	}
	results := scan.Run(context.Background(), offline(t), cat, list, scan.Options{})
	r := results[0]
	if r.Remediation != "Fix the high thing." {
		t.Errorf("failure remediation = %q", r.Remediation)
	}
	if r.Facts["count"] != int64(7) || r.Facts["mode"] != "on" || !slices.Equal(r.Details, []string{"in /etc/x"}) || r.Message != "bad" {
		t.Errorf("failure result = %+v", r)
	}
	if results[1].Remediation != "" || results[2].Remediation != "" {
		t.Error("only failures carry remediation")
	}
	if results[2].Status != report.StatusSkip || results[2].Reason != report.ReasonNotApplicable {
		t.Errorf("skip result: %+v", results[2])
	}
}

func TestCheckWithoutCatalogEntry(t *testing.T) {
	cat := testCatalog(t, 1)
	orphan := newFake("test.orphan", returns(checks.Pass("x"), nil))
	results := scan.Run(context.Background(), offline(t), cat, []checks.Check{orphan, newFake("test.c00", returns(checks.Pass("y"), nil))}, scan.Options{})
	r := results[0]
	if r.ID != "test.orphan" || r.Status != report.StatusError || r.Reason != report.ReasonInternal {
		t.Errorf("orphan result = %+v; want its ID with error/internal", r)
	}
	if orphan.calls.Load() != 0 {
		t.Error("a check without catalog entry was run")
	}
	if results[1].Status != report.StatusPass {
		t.Errorf("other check: %+v", results[1])
	}
}

func TestLogger(t *testing.T) {
	cat := testCatalog(t, 1)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	scan.Run(context.Background(), offline(t), cat, []checks.Check{newFake("test.c00", returns(checks.Fail("x"), nil))}, scan.Options{Logger: logger})
	if !strings.Contains(buf.String(), "id=test.c00") || !strings.Contains(buf.String(), "status=fail") {
		t.Errorf("log = %q", buf.String())
	}
}

func TestEmptyList(t *testing.T) {
	if got := scan.Run(context.Background(), offline(t), testCatalog(t, 0), nil, scan.Options{}); len(got) != 0 {
		t.Errorf("Run(nil) = %v", got)
	}
}

// runCommand is a check that runs argv on the host and reports its exit code.
func runCommand(id string, argv ...string) *fake {
	return newFake(id, func(ctx context.Context, h host.Host) (checks.Result, error) {
		out, err := h.Run(ctx, argv...)
		if err != nil {
			return checks.Result{}, err
		}
		return checks.Pass("exit %d", out.ExitCode).Int("n", int64(out.ExitCode)), nil
	})
}

func TestRealCommands(t *testing.T) {
	cat := testCatalog(t, 4)
	const cmdTimeout = 300 * time.Millisecond
	live, err := host.New(host.Options{CommandTimeout: cmdTimeout})
	if err != nil {
		t.Fatal(err)
	}
	list := []checks.Check{
		runCommand("test.c00", "server-audit-no-such-tool", "--version"),
		runCommand("test.c01", "sleep", "60"),
		runCommand("test.c02", "sh", "-c", "exit 2"),
		runCommand("test.c03", "true"),
	}
	start := time.Now()
	results := scan.Run(context.Background(), live, cat, list, scan.Options{CheckTimeout: 20 * time.Second})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v with a %v command timeout", d, cmdTimeout)
	}
	want := []struct {
		status report.Status
		reason report.Reason
	}{
		{report.StatusSkip, report.ReasonNotInstalled},
		{report.StatusError, report.ReasonTimeout},
		{report.StatusPass, ""},
		{report.StatusPass, ""},
	}
	for i, w := range want {
		r := results[i]
		if r.Status != w.status || r.Reason != w.reason {
			t.Errorf("%s: %s/%s %q, want %s/%s", r.ID, r.Status, r.Reason, r.Message, w.status, w.reason)
		}
	}
	if results[2].Facts["n"] != int64(2) {
		t.Errorf("exit code fact = %v", results[2].Facts["n"])
	}

	// The same checks on an offline root skip with not_live.
	results = scan.Run(context.Background(), offline(t), cat, list[:1], scan.Options{})
	if r := results[0]; r.Status != report.StatusSkip || r.Reason != report.ReasonNotLive {
		t.Errorf("offline: %s/%s", r.Status, r.Reason)
	}
}
