package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/api"
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

type harnessOptions struct {
	trusted   []string
	tokenRate api.RateLimit
	ipRate    api.RateLimit
	// workers > 0 starts a River client that works generate_report jobs.
	workers int
	build   jobs.BuildFunc
	limits  ingest.Limits
	public  string
	ready   func(context.Context) error
	timeout time.Duration
}

// harness is an API on its own database behind an httptest server.
type harness struct {
	pool  *pgxpool.Pool
	st    *store.Store
	cat   *catalog.Catalog
	river *river.Client[pgx.Tx]
	srv   *httptest.Server
	logs  *testenv.SyncBuffer
	reg   *prometheus.Registry
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	pool := pg.NewPool(t)
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := store.New(pool)
	rc, err := jobs.NewClient(pool, st, cat, logger, jobs.Options{
		Workers: o.workers, Build: o.build, TestOnly: true, FetchPollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.workers > 0 {
		if err := rc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = rc.Stop(ctx)
		})
	}
	var proxies []netip.Prefix
	for _, s := range o.trusted {
		proxies = append(proxies, netip.MustParsePrefix(s))
	}
	if o.tokenRate.PerSecond == 0 {
		o.tokenRate = api.RateLimit{PerSecond: 1000, Burst: 1000}
	}
	if o.ipRate.PerSecond == 0 {
		o.ipRate = api.RateLimit{PerSecond: 1000, Burst: 1000}
	}
	ready := o.ready
	if ready == nil {
		ready = func(ctx context.Context) error { return store.CheckSchema(ctx, pool) }
	}
	reg := prometheus.NewRegistry()
	opts := api.Options{
		Store:          st,
		Ingest:         ingest.NewService(st, rc),
		Decoder:        ingest.NewDecoder(cat, o.limits),
		Logger:         logger,
		Ready:          ready,
		TrustedProxies: proxies,
		TokenRate:      o.tokenRate,
		IPRate:         o.ipRate,
		Registry:       reg,
		RequestTimeout: o.timeout,
	}
	if o.public != "" {
		u, err := url.Parse(o.public)
		if err != nil {
			t.Fatal(err)
		}
		opts.PublicURL = u
	}
	a, err := api.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &harness{pool: pool, st: st, cat: cat, river: rc, srv: srv, logs: logs, reg: reg}
}

// token creates a token for email bound to ip ("" = unbound).
func (h *harness) token(t *testing.T, email, ip string) string {
	t.Helper()
	var addr netip.Addr
	if ip != "" {
		addr = netip.MustParseAddr(ip)
	}
	secret, _, err := h.st.CreateToken(context.Background(), email, addr)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// payload returns a valid payload and its gzip body.
func (h *harness) payload(t *testing.T, opts payloadgen.Options) (*report.Payload, []byte) {
	t.Helper()
	p, err := payloadgen.Payload(h.cat, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	_, gz, err := payloadgen.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, gz
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, r.body)
	}
	if p.Status != r.status || p.Title == "" || !strings.HasPrefix(p.Type, api.ProblemTypeBase) {
		t.Fatalf("malformed problem %+v for status %d", p, r.status)
	}
	return p
}

// expectProblem asserts status and problem code.
func (r response) expectProblem(t *testing.T, status int, code string) api.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	p := r.problem(t)
	if p.Type != api.ProblemTypeBase+code {
		t.Fatalf("problem type %q, want code %q", p.Type, code)
	}
	return p
}

// do sends a request. headers may override the defaults (gzip JSON with bearer token).
func (h *harness) do(t *testing.T, method, path, token string, body []byte, headers map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) post(t *testing.T, token string, body []byte, headers map[string]string) response {
	t.Helper()
	return h.do(t, http.MethodPost, "/v1/audits", token, body, headers)
}

// count runs a count(*) query.
func (h *harness) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) audits(t *testing.T, id string) int {
	t.Helper()
	return h.count(t, "SELECT count(*) FROM audits WHERE id = $1", id)
}

func (h *harness) jobs(t *testing.T, id string) int {
	t.Helper()
	return h.count(t, "SELECT count(*) FROM river_job WHERE kind = 'generate_report' AND args->>'audit_id' = $1", id)
}
