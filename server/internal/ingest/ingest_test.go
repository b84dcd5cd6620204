package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/jobs"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
	"github.com/securecodehq/server-audit/server/internal/pgtest"
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
	pool *pgxpool.Pool
	svc  *ingest.Service
	dec  *ingest.Decoder
	cat  *catalog.Catalog
	p    store.Principal
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
	secret, _, err := st.CreateToken(context.Background(), "ops@example.com", netip.MustParseAddr("192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.LookupToken(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{pool: pool, svc: ingest.NewService(st, rc), dec: ingest.NewDecoder(cat, ingest.Limits{}), cat: cat, p: p}
}

func (f *fixture) request(t *testing.T) ingest.Request {
	t.Helper()
	p, err := payloadgen.Payload(f.cat, "", payloadgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, gz, _ := payloadgen.Encode(p)
	d, err := f.dec.Decode(strings.NewReader(string(gz)), int64(len(gz)), "gzip")
	if err != nil {
		t.Fatal(err)
	}
	return ingest.Request{Principal: f.p, ClientIP: netip.MustParseAddr("192.0.2.10"), Decoded: d}
}

// rows counts what an ingest may leave behind for audit id.
func (f *fixture) rows(t *testing.T, id string) (audits, results, jobsN, servers int) {
	t.Helper()
	ctx := context.Background()
	f.pool.QueryRow(ctx, "SELECT count(*) FROM audits WHERE id = $1", id).Scan(&audits)
	f.pool.QueryRow(ctx, "SELECT count(*) FROM results WHERE audit_id = $1", id).Scan(&results)
	f.pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE args->>'audit_id' = $1", id).Scan(&jobsN)
	f.pool.QueryRow(ctx, "SELECT count(*) FROM servers").Scan(&servers)
	return
}

func TestIngestCommitsAuditAndJobTogether(t *testing.T) {
	f := newFixture(t)
	req := f.request(t)
	out, err := f.svc.Ingest(context.Background(), req)
	if err != nil || out.Replayed {
		t.Fatalf("ingest: %+v, %v", out, err)
	}
	a, r, j, s := f.rows(t, out.AuditID)
	if a != 1 || r != len(req.Decoded.Payload.Results) || j != 1 || s != 1 {
		t.Fatalf("audits %d, results %d, jobs %d, servers %d", a, r, j, s)
	}
	out2, err := f.svc.Ingest(context.Background(), req)
	if err != nil || !out2.Replayed {
		t.Fatalf("replay: %+v, %v", out2, err)
	}
	if a, _, j, _ := f.rows(t, out.AuditID); a != 1 || j != 1 {
		t.Fatalf("after replay: audits %d, jobs %d", a, j)
	}
}

func TestInjectedFailureAfterResultsLeavesNothing(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("injected failure")
	ingest.SetAfterResults(f.svc, func(context.Context) error { return boom })
	req := f.request(t)
	_, err := f.svc.Ingest(context.Background(), req)
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the injected failure", err)
	}
	if a, r, j, s := f.rows(t, req.Decoded.Payload.AuditID); a+r+j+s != 0 {
		t.Fatalf("left behind: audits %d, results %d, jobs %d, servers %d", a, r, j, s)
	}
	// The same upload succeeds once the failure is gone: nothing half-stored blocks it.
	ingest.SetAfterResults(f.svc, nil)
	if _, err := f.svc.Ingest(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if a, _, j, _ := f.rows(t, req.Decoded.Payload.AuditID); a != 1 || j != 1 {
		t.Fatalf("retry: audits %d, jobs %d", a, j)
	}
}

func TestCancelledContextMidTransactionLeavesNothing(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ingest.SetAfterResults(f.svc, func(context.Context) error {
		cancel() // the job insert and the commit run on a cancelled context
		return nil
	})
	req := f.request(t)
	if _, err := f.svc.Ingest(ctx, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if a, r, j, s := f.rows(t, req.Decoded.Payload.AuditID); a+r+j+s != 0 {
		t.Fatalf("left behind: audits %d, results %d, jobs %d, servers %d", a, r, j, s)
	}
}

func TestIPMismatchOnUnboundTokenBindsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.pool.Exec(ctx, "UPDATE tokens SET bound_ip = '198.51.100.1'"); err != nil {
		t.Fatal(err)
	}
	// The principal was read while unbound; the transaction sees the binding and refuses.
	req := f.request(t)
	req.Principal.BoundIP = netip.Addr{}
	_, err := f.svc.Ingest(ctx, req)
	var ie *ingest.Error
	if !errors.As(err, &ie) || ie.Kind != ingest.KindIPMismatch {
		t.Fatalf("err %v, want KindIPMismatch", err)
	}
	if a, _, j, _ := f.rows(t, req.Decoded.Payload.AuditID); a+j != 0 {
		t.Fatal("stored despite the mismatch")
	}
}
