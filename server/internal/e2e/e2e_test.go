package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestUploadEndToEnd: token created on the server, `server-audit run --token` over TLS from
// a test CA with --ca-file, report ready within 5 s with the agent's score.
func TestUploadEndToEnd(t *testing.T) {
	requireBinaries(t)
	dbURL := pg.NewDB(t)
	p := newPKI(t)
	a := startAPI(t, dbURL, p, "")
	token, _ := createToken(t, dbURL)
	ag := newAgent(t, "")

	res := ag.run(context.Background(), nil, "--token", token, "--endpoint", a.url(), "--ca-file", p.caFile)
	if res.code != 0 {
		t.Fatalf("agent exit %d:\n%s", res.code, res.stderr)
	}
	t.Logf("agent run with upload: %s", res.elapsed)
	score, reportURL := printedReport(t, res.stderr)
	if score != res.score {
		t.Errorf("printed score %d, payload score %d", score, res.score)
	}
	if want := a.url() + "/v1/audits/" + res.auditID + "/report"; reportURL != want {
		t.Errorf("report URL %s, want %s", reportURL, want)
	}
	var local struct {
		Summary struct {
			Score int `json:"score"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &local); err != nil || local.Summary.Score != res.score {
		t.Errorf("local report score %d (%v), payload score %d", local.Summary.Score, err, res.score)
	}

	client := a.httpClient()
	start := time.Now()
	var got struct {
		Status  string `json:"status"`
		Summary struct {
			Score         int  `json:"score"`
			ComputedScore int  `json:"computed_score"`
			ScoreMismatch bool `json:"score_mismatch"`
		} `json:"summary"`
	}
	for {
		req, _ := http.NewRequest(http.MethodGet, reportURL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if err != nil {
				t.Fatalf("decode report: %v", err)
			}
			break
		}
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("GET report: %d", resp.StatusCode)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("report not ready within 5 s (status %q)", got.Status)
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Logf("report ready %s after the upload", time.Since(start).Round(time.Millisecond))
	if got.Summary.Score != res.score || got.Summary.ComputedScore != res.score || got.Summary.ScoreMismatch {
		t.Errorf("report score %d (computed %d, mismatch %v), agent score %d",
			got.Summary.Score, got.Summary.ComputedScore, got.Summary.ScoreMismatch, res.score)
	}
	assertStoredOnce(t, dbURL, []string{res.auditID})
	if ids := ag.spooled(); len(ids) != 0 {
		t.Errorf("spool not empty after a delivered upload: %v", ids)
	}
	if st, err := os.Stat(ag.stateDir + "/object.key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("object key: %v, %v; want mode 0600", st, err)
	}
	// The token reached the agent on its command line; it must not come back out.
	ag.assertNoToken(token, res.stdout, res.stderr, a.logBuf.String())
}

// TestAPIStoppedDuringRun: the API dies while the agent connects; the payload is spooled
// (exit 3) and the next run, with the API back, delivers it and its own audit once each.
func TestAPIStoppedDuringRun(t *testing.T) {
	requireBinaries(t)
	dbURL := pg.NewDB(t)
	p := newPKI(t)
	a := startAPI(t, dbURL, p, "")
	token, _ := createToken(t, dbURL)
	ag := newAgent(t, token)
	var once sync.Once
	fw := newForwarder(t, a.addr, func(int64) { once.Do(a.kill) })

	first := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", fw.url(), "--ca-file", p.caFile, "--upload-timeout", "4s")
	if first.code != 3 {
		t.Fatalf("exit %d with the API stopped, want 3:\n%s", first.code, first.stderr)
	}
	if !strings.Contains(first.stderr, "spooled") {
		t.Errorf("no spool message:\n%s", first.stderr)
	}
	if ids := ag.spooled(); len(ids) != 1 || ids[0] != first.auditID {
		t.Fatalf("spool %v, want [%s]", ids, first.auditID)
	}
	data, err := os.ReadFile(ag.stateDir + "/spool/" + first.auditID + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	if err := json.Unmarshal(data, &payload); err != nil || payload["audit_id"] != first.auditID {
		t.Errorf("spool file is not the payload: %v", err)
	}

	b := startAPI(t, dbURL, p, a.addr)
	second := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", fw.url(), "--ca-file", p.caFile)
	if second.code != 0 {
		t.Fatalf("second run exit %d:\n%s", second.code, second.stderr)
	}
	if !strings.Contains(second.stderr, "delivered spooled audit "+first.auditID) {
		t.Errorf("the spooled audit was not reported as delivered:\n%s", second.stderr)
	}
	if ids := ag.spooled(); len(ids) != 0 {
		t.Errorf("spool not empty: %v", ids)
	}
	assertStoredOnce(t, dbURL, []string{first.auditID, second.auditID})
	ag.assertNoToken(token, first.stdout, first.stderr, second.stdout, second.stderr, b.logBuf.String())
}

// TestRetryAfterHourIsNotSlept: a server answering 429 with Retry-After: 3600 makes the
// agent spool at once (the wait exceeds the cap), with the default upload deadline.
func TestRetryAfterHourIsNotSlept(t *testing.T) {
	requireBinaries(t)
	dbURL := pg.NewDB(t)
	p := newPKI(t)
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"type":"https://example.com/docs#rate_limited","title":"Too many requests","status":429}`)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.cert}}
	srv.StartTLS()
	defer srv.Close()
	token, _ := createToken(t, dbURL)
	ag := newAgent(t, token)

	res := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", srv.URL, "--ca-file", p.caFile)
	if res.code != 3 {
		t.Fatalf("exit %d, want 3:\n%s", res.code, res.stderr)
	}
	if res.elapsed > 20*time.Second {
		t.Errorf("the agent took %s: it must not wait for Retry-After: 3600", res.elapsed)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests, want 1 (a wait beyond the cap is not retried)", hits.Load())
	}
	if !strings.Contains(res.stderr, "Retry") && !strings.Contains(res.stderr, "retry after") {
		t.Errorf("message does not explain the Retry-After:\n%s", res.stderr)
	}
	a := startAPI(t, dbURL, p, "")
	next := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", a.url(), "--ca-file", p.caFile)
	if next.code != 0 {
		t.Fatalf("delivery run exit %d:\n%s", next.code, next.stderr)
	}
	assertStoredOnce(t, dbURL, []string{res.auditID, next.auditID})
}

// TestServerNeverAnswers: a server that accepts connections and never answers; the upload
// deadline ends the run, the payload is spooled and delivered later.
func TestServerNeverAnswers(t *testing.T) {
	requireBinaries(t)
	dbURL := pg.NewDB(t)
	p := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	token, _ := createToken(t, dbURL)
	ag := newAgent(t, token)
	res := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", "https://"+ln.Addr().String(),
		"--ca-file", p.caFile, "--upload-timeout", "3s")
	if res.code != 3 {
		t.Fatalf("exit %d, want 3:\n%s", res.code, res.stderr)
	}
	if res.elapsed > 20*time.Second {
		t.Errorf("the run took %s with a 3s upload deadline", res.elapsed)
	}
	if !strings.Contains(res.stderr, "deadline") {
		t.Errorf("message does not mention the deadline:\n%s", res.stderr)
	}
	a := startAPI(t, dbURL, p, "")
	next := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", a.url(), "--ca-file", p.caFile)
	if next.code != 0 {
		t.Fatalf("delivery run exit %d:\n%s", next.code, next.stderr)
	}
	assertStoredOnce(t, dbURL, []string{res.auditID, next.auditID})
}

// TestUnknownCA: without --ca-file the test CA is unknown: refused after one connection,
// with a message naming --ca-file; delivered once the CA is given.
func TestUnknownCA(t *testing.T) {
	requireBinaries(t)
	dbURL := pg.NewDB(t)
	p := newPKI(t)
	a := startAPI(t, dbURL, p, "")
	fw := newForwarder(t, a.addr, nil)
	token, _ := createToken(t, dbURL)
	ag := newAgent(t, token)
	res := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", fw.url())
	if res.code != 3 {
		t.Fatalf("exit %d, want 3:\n%s", res.code, res.stderr)
	}
	if n := fw.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1: a certificate error is not retried", n)
	}
	for _, want := range []string{"unknown authority", "--ca-file"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("message does not mention %q:\n%s", want, res.stderr)
		}
	}
	if totalAudits(t, dbURL) != 0 {
		t.Error("an audit was stored over an untrusted connection")
	}
	next := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", fw.url(), "--ca-file", p.caFile)
	if next.code != 0 {
		t.Fatalf("run with --ca-file exit %d:\n%s", next.code, next.stderr)
	}
	assertStoredOnce(t, dbURL, []string{res.auditID, next.auditID})
}

// TestRevokedToken: a revoked token gets a clear message, one request, exit 2, and the
// payload is not spooled.
func TestRevokedToken(t *testing.T) {
	requireBinaries(t)
	dbURL := pg.NewDB(t)
	p := newPKI(t)
	a := startAPI(t, dbURL, p, "")
	fw := newForwarder(t, a.addr, nil)
	token, id := createToken(t, dbURL)
	ag := newAgent(t, token)
	env := []string{"SERVER_AUDIT_TOKEN=" + token}
	ok := ag.run(context.Background(), env, "--endpoint", fw.url(), "--ca-file", p.caFile)
	if ok.code != 0 {
		t.Fatalf("first run exit %d:\n%s", ok.code, ok.stderr)
	}
	serverCLI(t, dbURL, "token", "revoke", id)
	before := fw.accepted.Load()
	res := ag.run(context.Background(), env, "--endpoint", fw.url(), "--ca-file", p.caFile, "--verbose")
	if res.code != 2 {
		t.Fatalf("exit %d with a revoked token, want 2:\n%s", res.code, res.stderr)
	}
	if n := fw.accepted.Load() - before; n != 1 {
		t.Errorf("%d connections with a revoked token, want 1 (no retry)", n)
	}
	if strings.Count(res.stderr, "upload answered") != 1 || strings.Contains(res.stderr, "retrying") {
		t.Errorf("a 401 must not be retried:\n%s", res.stderr)
	}
	for _, want := range []string{"revoked", "not spooled"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("message does not mention %q:\n%s", want, res.stderr)
		}
	}
	if ids := ag.spooled(); len(ids) != 0 {
		t.Errorf("the refused payload was spooled: %v", ids)
	}
	// The audit made before the revocation is stored once; the refused one never.
	assertStoredOnce(t, dbURL, []string{ok.auditID})
	ag.assertNoToken(token, ok.stderr, ok.stdout, res.stderr, res.stdout, a.logBuf.String())
}

// TestTokenNotOnCommandLine: with the token from a file or the environment, the agent's
// command line (what ps shows) never contains it, even while an upload is in flight.
func TestTokenNotOnCommandLine(t *testing.T) {
	requireBinaries(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	connected := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connected <- c
		}
	}()
	defer ln.Close()
	const token = "sat_CommandLineCanary0123456789abcdefghijklmnopqr"
	for _, mode := range []string{"file", "env"} {
		t.Run(mode, func(t *testing.T) {
			ag := newAgent(t, token)
			var env []string
			args := []string{"run", "--config", "/dev/null", "--only", "system", "--state-dir", ag.stateDir,
				"--endpoint", "https://" + ln.Addr().String(), "--upload-timeout", "60s", "--verbose"}
			if mode == "file" {
				args = append(args, "--token-file", ag.tokenFile)
			} else {
				env = []string{"SERVER_AUDIT_TOKEN=" + token}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan agentRun, 1)
			cmdline := make(chan string, 1)
			go func() { done <- ag.exec(ctx, env, args...) }()
			// The agent is blocked in its upload once the server has its connection.
			var conn net.Conn
			select {
			case conn = <-connected:
			case <-time.After(30 * time.Second):
				t.Fatal("the agent never connected")
			}
			defer conn.Close()
			pid := agentPID(t, ln.Addr().String())
			data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if err != nil {
				t.Fatal(err)
			}
			cmdline <- string(data)
			if strings.Contains(string(data), token) {
				t.Errorf("the token is on the command line: %q", data)
			}
			if !strings.Contains(string(data), "--endpoint") {
				t.Errorf("read the wrong process's command line: %q", data)
			}
			cancel()
			res := <-done
			ag.assertNoToken(token, res.stdout, res.stderr)
		})
	}
}

// agentPID finds the agent process connected to addr among this test's children.
func agentPID(t *testing.T, addr string) int {
	t.Helper()
	des, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + de.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name (which is in parentheses): state, ppid, …
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[1] != self {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + de.Name() + "/cmdline")
		if strings.Contains(string(cmdline), addr) {
			return pid
		}
	}
	t.Fatalf("no child process of the test talks to %s", addr)
	return 0
}
