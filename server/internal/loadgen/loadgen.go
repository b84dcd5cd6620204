// Package loadgen drives POST /v1/audits of a running server-audit-api with concurrent
// clients and, in the same run, inserts the same rows straight through pgx (server, audit,
// results and the River job, no HTTP), so the API's overhead over the storage path it wraps
// can be read off directly.
//
// Each client has its own token bound to its own address in 10.0.0.0/8 and sends that
// address in X-Forwarded-For, so each client is a distinct server: start the API with
// --trusted-proxies 127.0.0.1 (or the loadgen host) and the rate limits off.
package loadgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/jobs"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// Options configures a run.
type Options struct {
	// URL is the API's base URL.
	URL string
	// DatabaseURL is the API's database (tokens are created there; the raw phase writes there).
	DatabaseURL string
	// Clients is the number of concurrent clients (default 50).
	Clients int
	// Audits is the number of audits each measured phase sends (default 20000).
	Audits int
	// Warmup audits are sent through the API before measuring (default 1000).
	Warmup int
	// Results per audit (default 120, capped at the catalog's size).
	Results int
	// DBConns is the raw phase's pool size (default 20, the API's default --db-max-conns),
	// so both paths reach PostgreSQL with the same concurrency.
	DBConns int
	// Rounds splits each measured phase into this many blocks run in ABBA order (raw, API,
	// API, raw, …), so that the database growing during the run (bigger tables and indexes,
	// checkpoints) weighs on both paths alike (default 2).
	Rounds int
	// SkipRaw and SkipAPI leave out a phase.
	SkipRaw, SkipAPI bool
	// Log receives progress lines.
	Log io.Writer
}

// Phase is the measurement of one phase.
type Phase struct {
	Name     string
	Audits   int
	Errors   map[string]int
	Elapsed  time.Duration
	PerSec   float64
	P50, P99 time.Duration
	Max      time.Duration
}

// Report is the outcome of a run.
type Report struct {
	Clients int
	Results int
	// BodyBytes and GzipBytes are the size of one payload.
	BodyBytes, GzipBytes int
	Raw, API             *Phase
}

// Ratio is the API's time per audit over the raw path's (the lower the better; 1 is no
// overhead). Zero when a phase is missing.
func (r *Report) Ratio() float64 {
	if r.Raw == nil || r.API == nil || r.API.PerSec == 0 {
		return 0
	}
	return r.Raw.PerSec / r.API.PerSec
}

// Run runs the load test.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Clients <= 0 {
		opts.Clients = 50
	}
	if opts.Audits <= 0 {
		opts.Audits = 20000
	}
	if opts.Warmup < 0 {
		opts.Warmup = 0
	}
	if opts.Results <= 0 {
		opts.Results = 120
	}
	if opts.DBConns <= 0 {
		opts.DBConns = 20
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 2
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	if opts.Results > len(cat.Checks) {
		fmt.Fprintf(opts.Log, "the catalog has %d checks: payloads carry %d results, not %d\n", len(cat.Checks), len(cat.Checks), opts.Results)
		opts.Results = len(cat.Checks)
	}
	pool, err := store.OpenPool(ctx, opts.DatabaseURL, store.PoolOptions{MaxConns: int32(opts.DBConns)})
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if err := store.CheckSchema(ctx, pool); err != nil {
		return nil, fmt.Errorf("%w (run `server-audit-api migrate` first)", err)
	}
	st := store.New(pool)

	tmpl, err := payloadgen.Payload(cat, "", payloadgen.Options{Results: opts.Results})
	if err != nil {
		return nil, err
	}
	plain, gz, err := payloadgen.Encode(tmpl)
	if err != nil {
		return nil, err
	}
	rep := &Report{Clients: opts.Clients, Results: len(tmpl.Results), BodyBytes: len(plain), GzipBytes: len(gz)}
	run := time.Now().UTC().Format("20060102T150405")

	var raw, api func(n int) (*sample, error)
	if !opts.SkipRaw {
		principals, err := makeClients(ctx, st, "loadgen-raw+"+run+"@example.invalid", opts.Clients, 1)
		if err != nil {
			return nil, err
		}
		rc, err := jobs.NewClient(pool, st, cat, slog.New(slog.DiscardHandler), jobs.Options{})
		if err != nil {
			return nil, err
		}
		raw = func(n int) (*sample, error) { return runRaw(ctx, pool, rc, tmpl, plain, principals, n) }
	}
	if !opts.SkipAPI {
		principals, err := makeClients(ctx, st, "loadgen-api+"+run+"@example.invalid", opts.Clients, 2)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Log, "preparing %d gzip payloads\n", opts.Warmup+opts.Audits)
		bodies, err := makeBodies(tmpl.AuditID, plain, opts.Warmup+opts.Audits)
		if err != nil {
			return nil, err
		}
		client := &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        opts.Clients * 2,
				MaxIdleConnsPerHost: opts.Clients * 2,
				DisableCompression:  true,
			},
		}
		api = func(n int) (*sample, error) {
			s, err := runAPI(ctx, client, opts.URL, principals, bodies[:n])
			bodies = bodies[n:]
			return s, err
		}
	}
	// Warm-up: connections, caches and the first pages of the tables, for both paths.
	for _, phase := range []func(int) (*sample, error){raw, api} {
		if phase != nil && opts.Warmup > 0 {
			fmt.Fprintf(opts.Log, "warm-up: %d audits\n", opts.Warmup)
			if _, err := phase(opts.Warmup); err != nil {
				return nil, err
			}
		}
	}
	var rawTotal, apiTotal sample
	blocks := splitEven(opts.Audits, opts.Rounds)
	for r, n := range blocks {
		order := []string{"raw", "api"}
		if r%2 == 1 {
			order = []string{"api", "raw"}
		}
		for _, name := range order {
			phase, total := raw, &rawTotal
			if name == "api" {
				phase, total = api, &apiTotal
			}
			if phase == nil {
				continue
			}
			fmt.Fprintf(opts.Log, "round %d/%d, %s: %d audits, %d clients\n", r+1, len(blocks), name, n, opts.Clients)
			s, err := phase(n)
			if err != nil {
				return nil, err
			}
			total.add(s)
		}
	}
	if raw != nil {
		rep.Raw = rawTotal.summarize("raw")
	}
	if api != nil {
		rep.API = apiTotal.summarize("api")
	}
	return rep, nil
}

// client is one simulated server.
type client struct {
	secret    string
	principal store.Principal
	ip        netip.Addr
}

// makeClients creates an account and n tokens bound to distinct addresses 10.<net>.x.y.
func makeClients(ctx context.Context, st *store.Store, email string, n int, net byte) ([]client, error) {
	out := make([]client, 0, n)
	for i := range n {
		ip := netip.AddrFrom4([4]byte{10, net, byte((i + 1) >> 8), byte(i + 1)})
		secret, tok, err := st.CreateToken(ctx, email, ip)
		if err != nil {
			return nil, err
		}
		out = append(out, client{secret: secret, ip: ip, principal: store.Principal{TokenID: tok.ID, AccountID: tok.AccountID, BoundIP: ip}})
	}
	return out, nil
}

// makeBodies returns n gzip bodies of plain, each with a fresh UUIDv7 in place of the
// template's audit id (36 bytes for 36 bytes, so the JSON stays valid).
func makeBodies(templateID string, plain []byte, n int) ([][]byte, error) {
	at := bytes.Index(plain, []byte(`"audit_id":"`+templateID+`"`))
	if at < 0 {
		return nil, errors.New("loadgen: audit_id not found in the template payload")
	}
	at += len(`"audit_id":"`)
	out := make([][]byte, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	workers := 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := slices.Clone(plain)
			for i := w; i < n; i += workers {
				id, err := report.NewAuditID(time.Now())
				if err != nil {
					firstErr.Store(err)
					return
				}
				copy(buf[at:], id)
				out[i] = payloadgen.Gzip(buf)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return out, nil
}

// runAPI posts bodies with the clients, each client sending its share sequentially.
func runAPI(ctx context.Context, hc *http.Client, baseURL string, clients []client, bodies [][]byte) (*sample, error) {
	url := strings.TrimSuffix(baseURL, "/") + "/v1/audits"
	return drive(ctx, clients, len(bodies), func(c client, i int) (time.Duration, error) {
		t0 := time.Now()
		status, err := post(ctx, hc, url, c, bodies[i])
		took := time.Since(t0)
		if err != nil {
			return took, fmt.Errorf("transport: %w", err)
		}
		if status != http.StatusAccepted {
			return took, fmt.Errorf("%d", status)
		}
		return took, nil
	})
}

// drive runs n operations with one goroutine per client, each taking the next index until
// none is left, and collects each operation's latency and the errors by message.
func drive(ctx context.Context, clients []client, n int, op func(c client, i int) (time.Duration, error)) (*sample, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var mu sync.Mutex
	errs := map[string]int{}
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				took, err := op(c, i)
				lat[i] = took
				if err != nil {
					mu.Lock()
					errs[err.Error()]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &sample{lat: lat, elapsed: time.Since(start), errs: errs}, nil
}

func post(ctx context.Context, hc *http.Client, url string, c client, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Forwarded-For", c.ip.String())
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// runRaw stores n audits with the exact statements the ingest transaction runs, without
// HTTP, decoding or authentication.
func runRaw(ctx context.Context, pool *pgxpool.Pool, rc *river.Client[pgx.Tx], tmpl *report.Payload, plain []byte, clients []client, n int) (*sample, error) {
	hash := sha256.Sum256(plain)
	return drive(ctx, clients, n, func(c client, _ int) (time.Duration, error) {
		p := *tmpl
		id, err := report.NewAuditID(time.Now())
		if err != nil {
			return 0, err
		}
		p.AuditID = id
		t0 := time.Now()
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			ok, err := store.InsertAudit(ctx, tx, &store.NewAudit{
				AccountID: c.principal.AccountID, TokenID: c.principal.TokenID,
				ServerIP: c.ip, Payload: &p, BodySHA256: hash,
			})
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("duplicate audit id")
			}
			if _, err := store.CopyResults(ctx, tx, &p); err != nil {
				return err
			}
			_, err = rc.InsertTx(ctx, tx, jobs.GenerateReportArgs{AuditID: p.AuditID}, nil)
			return err
		})
		return time.Since(t0), err
	})
}

// sample is what one block of a phase measured.
type sample struct {
	lat     []time.Duration
	elapsed time.Duration
	errs    map[string]int
}

// add appends another block's measurements.
func (s *sample) add(o *sample) {
	s.lat = append(s.lat, o.lat...)
	s.elapsed += o.elapsed
	if s.errs == nil {
		s.errs = map[string]int{}
	}
	for k, v := range o.errs {
		s.errs[k] += v
	}
}

// summarize turns the blocks of a phase into its throughput and latency percentiles.
func (s *sample) summarize(name string) *Phase {
	sorted := slices.Clone(s.lat)
	slices.Sort(sorted)
	pct := func(p float64) time.Duration {
		if len(sorted) == 0 {
			return 0
		}
		return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
	}
	ph := &Phase{Name: name, Audits: len(s.lat), Errors: s.errs, Elapsed: s.elapsed, P50: pct(0.50), P99: pct(0.99)}
	if len(sorted) > 0 {
		ph.Max = sorted[len(sorted)-1]
	}
	if s.elapsed > 0 {
		ph.PerSec = float64(len(s.lat)) / s.elapsed.Seconds()
	}
	return ph
}

// splitEven splits n into k parts that differ by at most one.
func splitEven(n, k int) []int {
	k = max(1, min(k, n))
	out := make([]int, k)
	for i := range out {
		out[i] = n / k
		if i < n%k {
			out[i]++
		}
	}
	return out
}

func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "clients %d, %d results per audit, payload %d bytes (%d gzip)\n", r.Clients, r.Results, r.BodyBytes, r.GzipBytes)
	for _, p := range []*Phase{r.Raw, r.API} {
		if p == nil {
			continue
		}
		fmt.Fprintf(w, "%-4s %6d audits in %6.2fs  %7.0f audits/s  p50 %6.2fms  p99 %6.2fms  max %6.2fms  errors %d\n",
			p.Name, p.Audits, p.Elapsed.Seconds(), p.PerSec, ms(p.P50), ms(p.P99), ms(p.Max), total(p.Errors))
		for k, v := range p.Errors {
			fmt.Fprintf(w, "     %d × %s\n", v, k)
		}
	}
	if ratio := r.Ratio(); ratio > 0 {
		fmt.Fprintf(w, "API time per audit / raw pgx time per audit: %.2f×\n", ratio)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
