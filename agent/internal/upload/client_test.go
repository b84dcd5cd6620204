package upload

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "sat_TestTokenValue0123456789abcdefghijklmnopqrstu"

// fastPolicy keeps retries quick in tests.
func fastPolicy() Policy {
	return Policy{MaxRetries: 3, WaitMin: 5 * time.Millisecond, WaitMax: 20 * time.Millisecond, RetryAfterCap: time.Minute}
}

// tlsServer starts an httptest TLS server and returns it with a CA file trusting it.
func tlsServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

func newTestClient(t *testing.T, endpoint, ca string, log *slog.Logger) *Client {
	t.Helper()
	c, err := New(Options{Endpoint: endpoint, Token: testToken, CAFile: ca, UserAgent: DefaultUserAgent("1.2.3"), Policy: fastPolicy(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

const auditID = "01a2254d-ebb9-7da3-82d5-2e3834e47231"

func TestSendRequestShape(t *testing.T) {
	payload := []byte(`{"audit_id":"` + auditID + `"}` + "\n")
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("body is not gzip: %v", err)
			return
		}
		body, _ := io.ReadAll(zr)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/base/v1/audits" || r.URL.RawQuery != "":
			t.Errorf("request %s %s", r.Method, r.URL)
		case r.Header.Get("Authorization") != "Bearer "+testToken:
			t.Errorf("Authorization header missing")
		case r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Content-Type") != "application/json":
			t.Errorf("headers %v", r.Header)
		case r.Header.Get("Idempotency-Key") != auditID:
			t.Errorf("Idempotency-Key %q", r.Header.Get("Idempotency-Key"))
		case !strings.HasPrefix(r.Header.Get("User-Agent"), "server-audit/1.2.3 "):
			t.Errorf("User-Agent %q", r.Header.Get("User-Agent"))
		case !bytes.Equal(body, payload):
			t.Errorf("body %q, want the payload", body)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"audit_id":%q,"report_url":"https://x/v1/audits/%s/report","status":"accepted"}`, auditID, auditID)
	}))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, srv.URL+"/base/", ca, log)
	acc, err := c.Send(context.Background(), auditID, payload)
	if err != nil {
		t.Fatal(err)
	}
	if acc.AuditID != auditID || acc.ReportURL != "https://x/v1/audits/"+auditID+"/report" || !acc.Duplicate || acc.Attempts != 1 {
		t.Errorf("answer %+v", acc)
	}
	if !strings.Contains(logs.String(), "performing request") {
		t.Errorf("verbose log is empty: %s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token is in the log:\n%s", logs.String())
	}
}

func TestSendRetriesThenSucceeds(t *testing.T) {
	var hits atomic.Int32
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch hits.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprintf(w, `{"audit_id":%q,"report_url":"u","status":"accepted"}`, auditID)
		}
	}))
	acc, err := newTestClient(t, srv.URL, ca, nil).Send(context.Background(), auditID, []byte("{}"))
	if err != nil || acc.Attempts != 3 || hits.Load() != 3 || acc.Duplicate {
		t.Fatalf("answer %+v, err %v, hits %d; want success on the third attempt", acc, err, hits.Load())
	}
}

func TestSendClassifiesFinalAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		kind   Kind
		hits   int32
	}{
		{401, "unauthorized", Unauthorized, 1},
		{403, "ip_mismatch", Unauthorized, 1},
		{413, "payload_too_large", Rejected, 1},
		{422, "idempotency_conflict", Rejected, 1},
		{500, "internal", Temporary, 1},
		{404, "not_found", Temporary, 1},
		{503, "unavailable", Temporary, 4}, // retried, then given up
	} {
		var hits atomic.Int32
		srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(tc.status)
			fmt.Fprintf(w, `{"type":"https://example.com/api.md#%s","title":"T","status":%d,"detail":"because\nreasons"}`, tc.code, tc.status)
		}))
		_, err := newTestClient(t, srv.URL, ca, nil).Send(context.Background(), auditID, []byte("{}"))
		var ue *Error
		if !errors.As(err, &ue) || ue.Kind != tc.kind || ue.Code != tc.code || ue.Status != tc.status || hits.Load() != tc.hits {
			t.Errorf("%d: error %#v, hits %d; want kind %d after %d request(s)", tc.status, err, hits.Load(), tc.kind, tc.hits)
			continue
		}
		if strings.Contains(ue.Error(), "\n") || !strings.Contains(ue.Error(), "because reasons") || strings.Contains(ue.Error(), testToken) {
			t.Errorf("%d: message %q", tc.status, ue.Error())
		}
	}
}

func TestUnknownCertificateIsNotRetried(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Listener = &countingListener{Listener: srv.Listener, n: &conns}
	srv.Config.ErrorLog = quietLog()
	srv.StartTLS()
	defer srv.Close()
	c := newTestClient(t, srv.URL, "", nil)
	_, err := c.Send(context.Background(), auditID, []byte("{}"))
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Temporary || !strings.Contains(ue.Error(), "unknown authority") || !strings.Contains(ue.Error(), "--ca-file") {
		t.Fatalf("error %v; want an unknown-authority message naming --ca-file", err)
	}
	if ue.Attempts != 1 || conns.Load() != 1 {
		t.Errorf("%d attempts, %d connections; want 1 (not retried)", ue.Attempts, conns.Load())
	}
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

func TestOldTLSRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS11}
	srv.Config.ErrorLog = quietLog()
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	_, err := newTestClient(t, srv.URL, ca, nil).Send(context.Background(), auditID, []byte("{}"))
	var ue *Error
	if !errors.As(err, &ue) || !strings.Contains(ue.Error(), "TLS 1.2") || ue.Attempts != 1 || hits.Load() != 0 {
		t.Fatalf("TLS 1.1 server: error %v (attempts %d, hits %d); want a refusal after one attempt", err, ue.Attempts, hits.Load())
	}
}

func TestDeadlineBoundsTheUpload(t *testing.T) {
	block := make(chan struct{})
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newTestClient(t, srv.URL, ca, nil).Send(ctx, auditID, []byte("{}"))
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Temporary || !strings.Contains(ue.Error(), "deadline") {
		t.Fatalf("error %v; want a deadline failure", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Send took %s past a 300ms deadline", time.Since(start))
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"https://api.securecodehq.com", true},
		{"https://audit.example.com:8443/prefix/", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://api.securecodehq.com", false},
		{"http://10.0.0.1", false},
		{"http://[::ffff:10.0.0.1]", false},
		{"ftp://example.com", false},
		{"https://user:pw@example.com", false},
		{"https://example.com/?q=1", false},
		{"example.com", false},
		{"", false},
	} {
		_, err := ParseEndpoint(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseEndpoint(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
	if _, err := ParseEndpoint("https://user:secretpw@example.com"); err == nil || strings.Contains(err.Error(), "secretpw") {
		t.Errorf("credentials must be refused without being echoed: %v", err)
	}
}

func TestCheckToken(t *testing.T) {
	for _, bad := range []string{"", "a b", "tok\nX-Evil: 1", strings.Repeat("x", 600), "tök"} {
		if err := CheckToken(bad); err == nil {
			t.Errorf("CheckToken(%q) accepted", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error echoes the token: %v", err)
		}
	}
	if err := CheckToken(testToken); err != nil {
		t.Error(err)
	}
}

func TestTLSConfig(t *testing.T) {
	conf, err := TLSConfig("")
	if err != nil || conf.MinVersion != tls.VersionTLS12 || conf.RootCAs != nil {
		t.Errorf("default TLS config %+v, %v; want TLS 1.2 minimum and system roots", conf, err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("not a certificate"), 0o600)
	if _, err := TLSConfig(empty); err == nil {
		t.Error("a CA file without certificates was accepted")
	}
	if _, err := TLSConfig(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

func TestServerTextIsEscaped(t *testing.T) {
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"type":"https://x/#invalid_payload\u001b]0;pwned\u0007","status":422,"detail":"bad\u001b[2J\r\nfake: line\u009b"}`)
	}))
	c := newTestClient(t, srv.URL, ca, slog.New(slog.DiscardHandler))
	_, err := c.Send(context.Background(), "0192a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b", []byte(`{}`))
	if err == nil {
		t.Fatal("a 422 was accepted")
	}
	msg := err.Error()
	for _, c := range msg {
		if c < 0x20 || c == 0x7f || c >= 0x80 && c <= 0x9f {
			t.Fatalf("control character %q reaches the terminal: %q", c, msg)
		}
	}
	if !strings.Contains(msg, `\x1b[2J`) || !strings.Contains(msg, `\x1b]0;pwned`) || !strings.Contains(msg, "422") {
		t.Errorf("message %q", msg)
	}
}
