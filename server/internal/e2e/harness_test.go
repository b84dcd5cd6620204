// Package e2e tests the agent and the API together: both binaries are built, the API
// serves HTTPS from a certificate of a CA made by the test, PostgreSQL is real, and the
// agent uploads the audit of the machine it runs on.
package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/pgtest"
)

var (
	pg         *pgtest.Env
	agentBin   string
	apiBin     string
	buildError error
)

func TestMain(m *testing.M) {
	pg = pgtest.Start()
	dir, err := os.MkdirTemp("", "server-audit-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin, apiBin = filepath.Join(dir, "server-audit"), filepath.Join(dir, "server-audit-api")
	buildError = build(agentBin, "../../../agent/cmd/server-audit", "CGO_ENABLED=0")
	if buildError == nil {
		buildError = build(apiBin, "../../cmd/server-audit-api")
	}
	code := m.Run()
	pg.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func build(out, pkg string, env ...string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func requireBinaries(t *testing.T) {
	t.Helper()
	if buildError != nil {
		t.Fatal(buildError)
	}
}

// pki is a test CA and a server certificate for 127.0.0.1 signed by it.
type pki struct {
	caFile, certFile, keyFile string
	cert                      tls.Certificate
	pool                      *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "server-audit test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "cert.pem"),
		keyFile:  filepath.Join(dir, "key.pem"),
		pool:     x509.NewCertPool(),
	}
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	writePEM(t, p.certFile, "CERTIFICATE", der)
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)
	p.pool.AddCert(caCert)
	if p.cert, err = tls.LoadX509KeyPair(p.certFile, p.keyFile); err != nil {
		t.Fatal(err)
	}
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// api is a running server-audit-api.
type api struct {
	t      *testing.T
	dbURL  string
	pki    *pki
	addr   string
	cmd    *exec.Cmd
	done   chan struct{}
	logBuf *testenv.SyncBuffer
}

// startAPI serves the API over TLS on a free loopback port (addr "" picks one) with the
// rate limits off, and waits until /healthz answers.
func startAPI(t *testing.T, dbURL string, p *pki, addr string) *api {
	t.Helper()
	if addr == "" {
		addr = freeAddr(t)
	}
	a := &api{t: t, dbURL: dbURL, pki: p, addr: addr, done: make(chan struct{}), logBuf: &testenv.SyncBuffer{}}
	a.cmd = exec.Command(apiBin, "serve", "--listen", addr, "--tls-cert", p.certFile, "--tls-key", p.keyFile,
		"--token-rate", "0", "--ip-rate", "0", "--workers", "2", "--shutdown-timeout", "5s")
	a.cmd.Env = []string{"DATABASE_URL=" + dbURL, "PATH=/usr/bin:/bin"}
	a.cmd.Stdout, a.cmd.Stderr = a.logBuf, a.logBuf
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start API: %v", err)
	}
	go func() { _ = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(a.stop)
	client := a.httpClient()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(a.url() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		select {
		case <-a.done:
			t.Fatalf("API exited at start:\n%s", a.logBuf.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("API not healthy after 60s: %v\n%s", err, a.logBuf.String())
		}
	}
}

func (a *api) url() string { return "https://" + a.addr }

func (a *api) httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: a.pki.pool, MinVersion: tls.VersionTLS12},
	}}
}

// kill stops the API at once (SIGKILL), as a crash or an abrupt stop would.
func (a *api) kill() {
	if a.cmd.Process != nil {
		_ = a.cmd.Process.Kill()
	}
	<-a.done
}

func (a *api) stop() {
	select {
	case <-a.done:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		a.kill()
	}
}

// serverCLI runs a server-audit-api command against dbURL.
func serverCLI(t *testing.T, dbURL string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(apiBin, args...)
	cmd.Env = []string{"DATABASE_URL=" + dbURL, "PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("server-audit-api %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

var createdToken = regexp.MustCompile(`created token (\d+)`)

// createToken creates a token and returns it and its id.
func createToken(t *testing.T, dbURL string) (string, string) {
	t.Helper()
	stdout, stderr := serverCLI(t, dbURL, "token", "create", "--email", "ops@example.com")
	m := createdToken.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("token create: no id in %q", stderr)
	}
	return strings.TrimSpace(stdout), m[1]
}

// agentRun is one agent invocation.
type agentRun struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
	auditID        string
	score          int
}

// agent is one audited host: a state directory (spool, object key) of its own.
type agent struct {
	t        *testing.T
	stateDir string
	// tokenFile holds the token (mode 0600) when set.
	tokenFile string
}

func newAgent(t *testing.T, token string) *agent {
	t.Helper()
	dir := t.TempDir()
	ag := &agent{t: t, stateDir: filepath.Join(dir, "state")}
	if token != "" {
		ag.tokenFile = filepath.Join(dir, "token")
		if err := os.WriteFile(ag.tokenFile, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ag
}

// run runs `server-audit run` with the host's checks limited to the fast system family, a
// payload file (to learn the audit id and score), and extra arguments.
func (ag *agent) run(ctx context.Context, env []string, args ...string) agentRun {
	payloadFile := filepath.Join(ag.t.TempDir(), "payload.json")
	full := append([]string{"run", "--config", "/dev/null", "--only", "system", "--fail-on", "none",
		"--output", "json", "--state-dir", ag.stateDir, "--payload-file", payloadFile}, args...)
	res := ag.exec(ctx, env, full...)
	if data, err := os.ReadFile(payloadFile); err == nil {
		var p report.Payload
		if json.Unmarshal(data, &p) == nil {
			res.auditID, res.score = p.AuditID, p.Score
		}
	}
	return res
}

func (ag *agent) exec(ctx context.Context, env []string, args ...string) agentRun {
	cmd := exec.CommandContext(ctx, agentBin, args...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NO_COLOR=1"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := agentRun{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		ag.t.Errorf("run agent: %v", err)
		res.code = -1
	}
	return res
}

// spooled returns the audit ids in the agent's spool.
func (ag *agent) spooled() []string {
	des, err := os.ReadDir(filepath.Join(ag.stateDir, "spool"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		ag.t.Fatal(err)
	}
	var ids []string
	for _, de := range des {
		if id, ok := strings.CutSuffix(de.Name(), ".json"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// assertNoToken fails when token appears in the outputs or in any file of the state dir.
func (ag *agent) assertNoToken(token string, outputs ...string) {
	ag.t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, token) {
			ag.t.Errorf("the token appears in the agent's output:\n%s", o)
		}
	}
	_ = filepath.WalkDir(ag.stateDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte(token)) {
			ag.t.Errorf("the token appears in %s", path)
		}
		return nil
	})
}

// auditCounts returns how many rows of audits each id has.
func auditCounts(t *testing.T, dbURL string, ids []string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	out := map[string]int{}
	rows, err := conn.Query(ctx, `SELECT id::text, count(*) FROM audits WHERE id::text = ANY($1) GROUP BY id`, ids)
	if err != nil {
		t.Fatalf("count audits: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// totalAudits counts all stored audits.
func totalAudits(t *testing.T, dbURL string) int {
	t.Helper()
	n, err := countAudits(dbURL)
	if err != nil {
		t.Fatalf("count audits: %v", err)
	}
	return n
}

func countAudits(dbURL string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM audits`).Scan(&n)
	return n, err
}

// assertStoredOnce fails unless every id is stored exactly once and nothing else is stored.
func assertStoredOnce(t *testing.T, dbURL string, ids []string) {
	t.Helper()
	counts := auditCounts(t, dbURL, ids)
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("audit %s stored %d times, want exactly once", id, counts[id])
		}
	}
	if n := totalAudits(t, dbURL); n != len(ids) {
		t.Errorf("%d audits stored, want %d", n, len(ids))
	}
}

// forwarder is a TCP proxy on loopback to target. onAccept, when set, runs before each
// connection is forwarded.
type forwarder struct {
	ln       net.Listener
	target   string
	accepted atomic.Int64
	onAccept func(n int64)
	wg       sync.WaitGroup
}

func newForwarder(t *testing.T, target string, onAccept func(n int64)) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target, onAccept: onAccept}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

func (f *forwarder) url() string { return "https://" + f.ln.Addr().String() }

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		n := f.accepted.Add(1)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer conn.Close()
			if f.onAccept != nil {
				f.onAccept(n)
			}
			up, err := net.DialTimeout("tcp", f.target, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
			go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
			<-done
		}()
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// reportURL extracts the report URL the agent printed.
var reportLine = regexp.MustCompile(`results sent \(score (\d+)/100[^)]*\); report: (\S+)`)

func printedReport(t *testing.T, stderr string) (int, string) {
	t.Helper()
	m := reportLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the agent printed no report URL and score:\n%s", stderr)
	}
	score, _ := strconv.Atoi(m[1])
	return score, m[2]
}
