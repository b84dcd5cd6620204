package cli_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/server/internal/cli"
	"github.com/securecodehq/server-audit/server/internal/config"
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

type run struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, env map[string]string, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return run{code, out.String(), errb.String()}
}

func TestServeWithoutDatabaseSaysHowToGiveOne(t *testing.T) {
	r := runCLI(t, nil, "serve")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "DATABASE_URL") || !strings.Contains(r.stderr, "--database-url") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "token", "list"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "DATABASE_URL") {
		t.Fatalf("token list: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "serve", "--bogus"); r.code != cli.ExitUsage {
		t.Fatalf("unknown flag: exit %d", r.code)
	}
	if r := runCLI(t, map[string]string{"DATABASE_URL": "postgres://x", "SERVER_AUDIT_API_WORKERS": "lots"}, "serve"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "SERVER_AUDIT_API_WORKERS") {
		t.Fatalf("bad env: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestMigrateAndTokenCommands(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pg.NewEmptyDB(t)}
	if r := runCLI(t, env, "token", "create", "--email", "ops@example.com"); r.code != cli.ExitError || !strings.Contains(r.stderr, "migrate") {
		t.Fatalf("token create before migrate: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI(t, env, "migrate"); r.code != 0 || r.stdout != "" {
		t.Fatalf("migrate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "migrate"); r.code != 0 || !strings.Contains(r.stderr, "up to date") {
		t.Fatalf("second migrate: exit %d, stderr %q", r.code, r.stderr)
	}
	r := runCLI(t, env, "token", "create", "--email", "ops@example.com", "--ip", "192.0.2.7")
	if r.code != 0 {
		t.Fatalf("token create: exit %d: %s", r.code, r.stderr)
	}
	secret := strings.TrimSuffix(r.stdout, "\n")
	if !store.WellFormedToken(secret) || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("stdout %q: want the token alone", r.stdout)
	}
	if strings.Contains(r.stderr, secret) || !strings.Contains(r.stderr, "192.0.2.7") {
		t.Fatalf("stderr %q", r.stderr)
	}
	r2 := runCLI(t, env, "token", "create", "--email", "ops@example.com")
	if r2.code != 0 || !strings.Contains(r2.stderr, "first upload") {
		t.Fatalf("unbound token: exit %d, %q", r2.code, r2.stderr)
	}
	list := runCLI(t, env, "token", "list")
	if list.code != 0 || !strings.Contains(list.stdout, "192.0.2.7") || !strings.Contains(list.stdout, "ops@example.com") || strings.Contains(list.stdout, secret) {
		t.Fatalf("list: exit %d\n%s", list.code, list.stdout)
	}
	if lines := strings.Split(strings.TrimSpace(list.stdout), "\n"); len(lines) != 3 {
		t.Fatalf("list has %d lines:\n%s", len(lines), list.stdout)
	}
	if r := runCLI(t, env, "token", "revoke", "1"); r.code != 0 || !strings.Contains(r.stderr, "revoked") {
		t.Fatalf("revoke: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI(t, env, "token", "revoke", "99"); r.code != cli.ExitError || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("revoke unknown: exit %d, %q", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"token", "revoke", "abc"},
		{"token", "revoke"},
		{"token", "create"},
		{"token", "create", "--email", "nope"},
		{"token", "create", "--email", "a@b.c", "--ip", "300.1.1.1"},
	} {
		if r := runCLI(t, env, args...); r.code != cli.ExitUsage {
			t.Errorf("%v: exit %d (%s)", args, r.code, r.stderr)
		}
	}
	pool, _ := pgxpool.New(context.Background(), env["DATABASE_URL"])
	defer pool.Close()
	var revoked bool
	pool.QueryRow(context.Background(), "SELECT revoked_at IS NOT NULL FROM tokens WHERE id = 1").Scan(&revoked)
	if !revoked {
		t.Fatal("token 1 not revoked")
	}
}

// startServe runs cli.Serve on a fresh, unmigrated database (serve migrates it) and returns
// the address and a function that stops it and returns Serve's error.
func startServe(t *testing.T, mutate func(*config.Serve)) (string, string, func() error) {
	t.Helper()
	dbURL := pg.NewEmptyDB(t)
	cfg := config.Serve{
		Common:          config.Common{DatabaseURL: dbURL, LogLevel: "info"},
		Listen:          "127.0.0.1:0",
		MaxBody:         1 << 20,
		MaxDecompressed: 8 << 20,
		TokenRate:       100, TokenBurst: 100, IPRate: 100, IPBurst: 100,
		RequestTimeout:  10 * time.Second,
		ShutdownTimeout: 20 * time.Second,
		Workers:         1,
		DBMaxConns:      5,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	go func() { done <- cli.Serve(ctx, cfg, logger, func(a net.Addr) { addrs <- a }) }()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("serve did not stop")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return addr.String(), dbURL, stop
}

func TestServeMigratesAndShutsDownGracefully(t *testing.T) {
	addr, dbURL, stop := startServe(t, nil)
	base := "http://" + addr
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after start: %d", resp.StatusCode)
	}
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	secret, _, err := store.New(pool).CreateToken(context.Background(), "ops@example.com", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := catalog.Load()
	p, _ := payloadgen.Payload(cat, "", payloadgen.Options{})
	body, _, _ := payloadgen.Encode(p)

	// An upload is in flight (most of its body sent, well past the client's write buffer,
	// so the server is reading it) when the shutdown begins.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/audits", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	status := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	cut := len(body) - 100
	if _, err := pw.Write(body[:cut]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the handler is blocked reading the rest
	stopErr := make(chan error, 1)
	go func() { stopErr <- stop() }()
	time.Sleep(300 * time.Millisecond) // the server is now shutting down
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("a new connection was accepted during shutdown")
	}
	if _, err := pw.Write(body[cut:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if got := <-status; got != http.StatusAccepted {
		t.Fatalf("in-flight upload: status %d, want 202", got)
	}
	if err := <-stopErr; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	var n int
	pool.QueryRow(context.Background(), "SELECT count(*) FROM audits WHERE id = $1", p.AuditID).Scan(&n)
	if n != 1 {
		t.Fatal("the in-flight upload was not stored")
	}
}

func TestServeTLSRequiresTLS12(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	addr, _, _ := startServe(t, func(c *config.Serve) {
		c.TLSCert, c.TLSKey = certFile, keyFile
		c.Workers = 0
	})
	pemBytes, _ := os.ReadFile(certFile)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	client := func(maxVersion uint16) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: maxVersion}}}
	}
	resp, err := client(tls.VersionTLS12).Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("TLS 1.2: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if _, err := client(tls.VersionTLS11).Get("https://" + addr + "/healthz"); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("plain HTTP served on the TLS port")
	}
}

func writeSelfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}
