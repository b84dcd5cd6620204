package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/jobs"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
	"github.com/securecodehq/server-audit/server/internal/pgtest"
	"github.com/securecodehq/server-audit/server/internal/reportgen"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// pg is the PostgreSQL test environment, set once by TestMain before any test runs.
var pg *pgtest.Env

func TestMain(m *testing.M) {
	pg = pgtest.Start()
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

type fixture struct {
	st    *store.Store
	cat   *catalog.Catalog
	svc   *ingest.Service
	dec   *ingest.Decoder
	river *river.Client[pgx.Tx]
	who   store.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pg.NewPool(t)
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	rc, err := jobs.NewClient(pool, st, cat, slog.New(slog.DiscardHandler), jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := st.CreateToken(context.Background(), "ops@example.com", netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	who, err := st.LookupToken(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, cat: cat, svc: ingest.NewService(st, rc), dec: ingest.NewDecoder(cat, ingest.Limits{}), river: rc, who: who}
}

// ingest stores an audit whose failing checks are fails, from ip.
func (f *fixture) ingest(t *testing.T, ip string, fails ...string) *report.Payload {
	t.Helper()
	p, err := payloadgen.Payload(f.cat, "", payloadgen.Options{Results: 12, Fail: func(id string) bool { return slices.Contains(fails, id) }})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, _ := payloadgen.Encode(p)
	d, err := f.dec.Decode(strings.NewReader(string(plain)), -1, "")
	if err != nil {
		t.Fatal(err)
	}
	who := f.who
	who.BoundIP = netip.MustParseAddr(ip)
	if _, err := f.svc.Ingest(context.Background(), ingest.Request{Principal: who, ClientIP: who.BoundIP, Decoded: d}); err != nil {
		t.Fatal(err)
	}
	// Audits in one test are received within the same clock tick at worst; ordering then
	// falls back to the UUIDv7 id, which also follows time.
	time.Sleep(2 * time.Millisecond)
	return p
}

func job(auditID string, attempt int) *river.Job[jobs.GenerateReportArgs] {
	return &river.Job[jobs.GenerateReportArgs]{
		JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: jobs.MaxAttempts, Kind: "generate_report"},
		Args:   jobs.GenerateReportArgs{AuditID: auditID},
	}
}

func (f *fixture) worker(build jobs.BuildFunc) *jobs.GenerateReportWorker {
	return &jobs.GenerateReportWorker{Store: f.st, Catalog: f.cat, Build: build, Logger: slog.New(slog.DiscardHandler)}
}

func TestWorkerPassesPreviousAuditOfSameServer(t *testing.T) {
	f := newFixture(t)
	ids := f.cat.IDs()
	first := f.ingest(t, "192.0.2.1", ids[0], ids[1])
	f.ingest(t, "192.0.2.99", ids[5]) // another server of the account: never "previous"
	second := f.ingest(t, "192.0.2.1", ids[1], ids[2])

	var got []reportgen.Input
	capture := func(in reportgen.Input, _ *catalog.Catalog) (reportgen.Output, error) {
		got = append(got, in)
		return reportgen.Output{Markdown: "# md", HTML: "<p>html</p>", Summary: reportgen.Summary{AuditID: in.AuditID}}, nil
	}
	w := f.worker(capture)
	for _, id := range []string{first.AuditID, second.AuditID} {
		if err := w.Work(context.Background(), job(id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if got[0].Previous != nil {
		t.Fatalf("first audit has a previous one: %+v", got[0].Previous)
	}
	in := got[1]
	if in.AuditID != second.AuditID || in.Score != second.Score || in.Grade != second.Grade || in.AgentVersion != second.AgentVersion {
		t.Fatalf("input %+v", in)
	}
	if in.Host.Kernel != second.Host.Kernel || !in.Host.Live || in.Host.Distro != "debian" {
		t.Errorf("host %+v", in.Host)
	}
	if in.Previous == nil || in.Previous.AuditID != first.AuditID || len(in.Previous.Results) != len(first.Results) {
		t.Fatalf("previous %+v, want audit %s with %d results", in.Previous, first.AuditID, len(first.Results))
	}
	if len(in.Results) != len(second.Results) {
		t.Fatalf("%d results, want %d", len(in.Results), len(second.Results))
	}
	status := func(rs []reportgen.Result, id string) report.Status {
		for _, r := range rs {
			if r.CheckID == id {
				return r.Status
			}
		}
		return ""
	}
	if status(in.Previous.Results, ids[0]) != report.StatusFail || status(in.Results, ids[0]) != report.StatusPass ||
		status(in.Results, ids[2]) != report.StatusFail || status(in.Previous.Results, ids[2]) != report.StatusPass {
		t.Fatal("statuses not loaded as stored")
	}
	// Facts come back in wire normal form.
	for i, r := range in.Results {
		want := second.Results[slices.IndexFunc(second.Results, func(p report.PayloadResult) bool { return p.ID == r.CheckID })]
		if len(r.Facts) != len(want.Facts) {
			t.Fatalf("result %d facts %v, want %v", i, r.Facts, want.Facts)
		}
		for k, v := range want.Facts {
			if a, b := jsonOf(t, r.Facts[k]), jsonOf(t, v); a != b {
				t.Errorf("%s.%s = %s (%T), want %s (%T)", r.CheckID, k, a, r.Facts[k], b, v)
			}
		}
	}
	rep, err := f.st.GetReport(context.Background(), f.who.AccountID, second.AuditID)
	if err != nil || rep.Status != store.ReportReady || rep.Markdown != "# md" || rep.HTML != "<p>html</p>" || rep.GeneratedAt == nil {
		t.Fatalf("stored report %+v, %v", rep, err)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWorkerRecordsFailuresAndGivesUp(t *testing.T) {
	f := newFixture(t)
	p := f.ingest(t, "192.0.2.1")
	failing := func(reportgen.Input, *catalog.Catalog) (reportgen.Output, error) {
		return reportgen.Output{}, errors.New("renderer exploded")
	}
	w := f.worker(failing)
	if err := w.Work(context.Background(), job(p.AuditID, 1)); err == nil {
		t.Fatal("a failed build must fail the job so River retries it")
	}
	rep, err := f.st.GetReport(context.Background(), f.who.AccountID, p.AuditID)
	if err != nil || rep.Status != store.ReportPending || !strings.Contains(rep.Error, "renderer exploded") || rep.Attempts != 1 {
		t.Fatalf("after attempt 1: %+v, %v", rep, err)
	}
	if err := w.Work(context.Background(), job(p.AuditID, jobs.MaxAttempts)); err == nil {
		t.Fatal("last attempt succeeded")
	}
	rep, _ = f.st.GetReport(context.Background(), f.who.AccountID, p.AuditID)
	if rep.Status != store.ReportFailed || rep.Attempts != jobs.MaxAttempts {
		t.Fatalf("after the last attempt: %+v", rep)
	}
	// A later success replaces the failure.
	ok := f.worker(func(in reportgen.Input, _ *catalog.Catalog) (reportgen.Output, error) {
		return reportgen.Output{Markdown: "ok"}, nil
	})
	if err := ok.Work(context.Background(), job(p.AuditID, 1)); err != nil {
		t.Fatal(err)
	}
	rep, _ = f.st.GetReport(context.Background(), f.who.AccountID, p.AuditID)
	if rep.Status != store.ReportReady || rep.Error != "" {
		t.Fatalf("after success: %+v", rep)
	}
}

func TestWorkerCancelsJobOfDeletedAudit(t *testing.T) {
	f := newFixture(t)
	id, _ := report.NewAuditID(time.Now())
	err := f.worker(reportgen.Build).Work(context.Background(), job(id, 1))
	var cancel *rivertype.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("err %v, want a JobCancel error", err)
	}
}

func TestRetryPolicyIsBounded(t *testing.T) {
	var total time.Duration
	for attempt := 1; attempt < jobs.MaxAttempts; attempt++ {
		d := jobs.RetryDelay(attempt)
		if d <= 0 || d > jobs.MaxRetryDelay {
			t.Fatalf("attempt %d: delay %v", attempt, d)
		}
		total += d
	}
	if total > 10*time.Minute {
		t.Fatalf("retries span %v", total)
	}
	if d := jobs.RetryDelay(1000); d != jobs.MaxRetryDelay {
		t.Fatalf("huge attempt: %v", d)
	}
	if opts := (jobs.GenerateReportArgs{}).InsertOpts(); opts.MaxAttempts != jobs.MaxAttempts {
		t.Fatalf("MaxAttempts %d", opts.MaxAttempts)
	}
	w := &jobs.GenerateReportWorker{}
	next := w.NextRetry(job("x", 3))
	if until := time.Until(next); until < 10*time.Second || until > jobs.MaxRetryDelay {
		t.Fatalf("NextRetry in %v", until)
	}
}

// TestReportShowsFixedAndNewFailures runs the real report builder over two audits of one
// server and checks what changed.
func TestReportShowsFixedAndNewFailures(t *testing.T) {
	f := newFixture(t)
	ids := f.cat.IDs()
	fixed, stays, added := ids[0], ids[1], ids[2]
	f.ingest(t, "192.0.2.1", fixed, stays)
	second := f.ingest(t, "192.0.2.1", stays, added)
	if err := f.worker(reportgen.Build).Work(context.Background(), job(second.AuditID, 1)); err != nil {
		t.Fatal(err)
	}
	rep, err := f.st.GetReport(context.Background(), f.who.AccountID, second.AuditID)
	if err != nil || rep.Status != store.ReportReady {
		t.Fatalf("report %+v, %v", rep, err)
	}
	var s reportgen.Summary
	if err := json.Unmarshal(rep.Summary, &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Fixed, []string{fixed}) || !slices.Equal(s.NewFailures, []string{added}) {
		t.Fatalf("fixed %v, new %v; want [%s], [%s]", s.Fixed, s.NewFailures, fixed, added)
	}
	if s.PreviousAudit == "" {
		t.Error("no previous audit in the summary")
	}
	for _, id := range []string{fixed, added} {
		if !strings.Contains(rep.Markdown, id) || !strings.Contains(rep.HTML, id) {
			t.Errorf("%s missing from the rendered report", id)
		}
	}
	for _, fnd := range s.Failures {
		if fnd.CheckID == stays && fnd.New || fnd.CheckID == added && !fnd.New {
			t.Errorf("finding %s new=%v", fnd.CheckID, fnd.New)
		}
	}
}

// TestRiverRunsTheWorker inserts a job through the ingest transaction and lets a started
// River client work it.
func TestRiverRunsTheWorker(t *testing.T) {
	pool := pg.NewPool(t)
	cat, _ := catalog.Load()
	st := store.New(pool)
	built := make(chan string, 1)
	rc, err := jobs.NewClient(pool, st, cat, slog.New(slog.DiscardHandler), jobs.Options{
		Workers: 1, TestOnly: true, FetchPollInterval: 50 * time.Millisecond,
		Build: func(in reportgen.Input, _ *catalog.Catalog) (reportgen.Output, error) {
			built <- in.AuditID
			return reportgen.Output{Markdown: "done"}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer rc.Stop(context.Background())
	completed, stop := rc.Subscribe(river.EventKindJobCompleted)
	defer stop()
	secret, _, _ := st.CreateToken(ctx, "ops@example.com", netip.MustParseAddr("192.0.2.1"))
	who, _ := st.LookupToken(ctx, secret)
	p, _ := payloadgen.Payload(cat, "", payloadgen.Options{Results: 5})
	plain, _, _ := payloadgen.Encode(p)
	d, err := ingest.NewDecoder(cat, ingest.Limits{}).Decode(strings.NewReader(string(plain)), -1, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.NewService(st, rc).Ingest(ctx, ingest.Request{Principal: who, ClientIP: who.BoundIP, Decoded: d}); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-built:
		if id != p.AuditID {
			t.Fatalf("built %s, want %s", id, p.AuditID)
		}
	case <-ctx.Done():
		t.Fatal("the job was not worked")
	}
	select {
	case ev := <-completed:
		if ev.Job.Kind != "generate_report" {
			t.Fatalf("completed %s", ev.Job.Kind)
		}
	case <-ctx.Done():
		t.Fatal("no completion event")
	}
}
