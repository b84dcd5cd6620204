package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v5"

	"github.com/securecodehq/server-audit/server/internal/store"
)

func TestIPResolver(t *testing.T) {
	trusted := NewIPResolver([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::ffff:192.168.0.0/112"), // IPv4-mapped form of 192.168.0.0/16
		netip.MustParsePrefix("fd00::/8"),
	})
	none := NewIPResolver(nil)
	for _, tc := range []struct {
		r      *IPResolver
		remote string
		xff    []string
		want   string
	}{
		{none, "203.0.113.5:4000", nil, "203.0.113.5"},
		{none, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{none, "10.0.0.1:4000", []string{"1.2.3.4"}, "10.0.0.1"},
		{trusted, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{trusted, "10.0.0.1:4000", nil, "10.0.0.1"},
		{trusted, "10.0.0.1:4000", []string{"1.2.3.4"}, "1.2.3.4"},
		{trusted, "10.0.0.1:4000", []string{"6.6.6.6, 1.2.3.4"}, "1.2.3.4"},
		{trusted, "10.0.0.1:4000", []string{"6.6.6.6, 1.2.3.4, 10.9.9.9"}, "1.2.3.4"},
		{trusted, "10.0.0.1:4000", []string{"6.6.6.6", "1.2.3.4", "192.168.1.1"}, "1.2.3.4"},
		{trusted, "10.0.0.1:4000", []string{"10.2.2.2, 10.3.3.3"}, "10.2.2.2"},
		{trusted, "10.0.0.1:4000", []string{"1.2.3.4, bogus"}, "10.0.0.1"},
		{trusted, "10.0.0.1:4000", []string{"1.2.3.4:5678"}, "1.2.3.4"},
		{trusted, "10.0.0.1:4000", []string{`"[2001:db8::1]:443"`}, "2001:db8::1"},
		{trusted, "10.0.0.1:4000", []string{"::ffff:1.2.3.4"}, "1.2.3.4"},
		{trusted, "10.0.0.1:4000", []string{"fe80::1%eth0"}, "10.0.0.1"},
		{trusted, "[fd00::1]:4000", []string{"2001:db8::7"}, "2001:db8::7"},
		{trusted, "[::ffff:192.168.3.3]:4000", []string{"1.2.3.4"}, "1.2.3.4"},
	} {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		if got := tc.r.Resolve(req).String(); got != tc.want {
			t.Errorf("remote %s, XFF %q: got %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                   formatJSON,
		"*/*":                                formatJSON,
		"application/json":                   formatJSON,
		"text/markdown":                      formatMarkdown,
		"text/html":                          formatHTML,
		"text/*":                             formatMarkdown,
		"text/html, text/markdown":           formatMarkdown,
		"text/html;q=1, text/markdown;q=0.5": formatHTML,
		"text/html, */*;q=0.1":               formatHTML,
		"application/json;q=0, text/*":       formatMarkdown,
		"application/pdf":                    "",
		"text/plain, image/*":                "",
		"text/*;q=0, */*":                    formatJSON,
		"text/html;q=0, text/*":              formatMarkdown,
		"text/html;q=bogus":                  "",
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("Accept %q: got %q, want %q", accept, got, want)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(RateLimit{PerSecond: 2, Burst: 3})
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if ok, _ := l.allow("k", now); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.allow("k", now)
	if ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("over the burst: ok %v, wait %v", ok, wait)
	}
	if ok, _ := l.allow("other", now); !ok {
		t.Fatal("keys share a bucket")
	}
	if ok, _ := l.allow("k", now.Add(wait)); !ok {
		t.Fatal("refused after waiting the advertised delay")
	}
	// Idle buckets are forgotten.
	l.allow("x", now.Add(time.Hour))
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets after an hour, want 1", len(l.buckets))
	}
	if ok, _ := newLimiter(RateLimit{}).allow("k", now); !ok {
		t.Fatal("a zero rate must disable the limit")
	}
}

func TestIPKeyGroupsIPv6By64(t *testing.T) {
	a := ipKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	b := ipKey(netip.MustParseAddr("2001:db8:1:2:bbbb::9"))
	c := ipKey(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Fatalf("keys %s %s %s", a, b, c)
	}
	if ipKey(netip.MustParseAddr("192.0.2.1")) != "192.0.2.1" {
		t.Fatal("IPv4 key")
	}
}

func TestRequestID(t *testing.T) {
	if got := requestID("abc-123_x.y"); got != "abc-123_x.y" {
		t.Fatalf("kept %q", got)
	}
	for _, bad := range []string{"", "has space", "a\"b", string(make([]byte, 65))} {
		if got := requestID(bad); got == bad || len(got) != 32 {
			t.Errorf("%q -> %q", bad, got)
		}
	}
}

func TestToProblem(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
		st   int
	}{
		{echo.ErrNotFound, CodeNotFound, 404},
		{echo.ErrMethodNotAllowed, CodeMethodNotAllowed, 405},
		{echo.ErrStatusRequestEntityTooLarge, CodePayloadTooLarge, 413},
		{fmt.Errorf("op: %w", errors.New("boom")), CodeInternal, 500},
		{fmt.Errorf("op: %w", timeoutErr{}), CodeInternal, 500},
		{problem(403, CodeIPMismatch, "x"), CodeIPMismatch, 403},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), CodeTimeout, 503},
		{fmt.Errorf("ingest: %w", &pgconn.PgError{Code: "57P01"}), CodeUnavailable, 503},
		{fmt.Errorf("ingest: %w", &pgconn.PgError{Code: "08006"}), CodeUnavailable, 503},
		{fmt.Errorf("ingest: %w", &pgconn.PgError{Code: "23505"}), CodeInternal, 500},
	} {
		p := toProblem(tc.err)
		if p.code != tc.code || p.Status != tc.st || p.Type != ProblemTypeBase+tc.code || p.Title == "" {
			t.Errorf("%v -> %+v", tc.err, p)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "timeout" }

func TestTokenCache(t *testing.T) {
	c := newTokenCache(10 * time.Second)
	now := time.Unix(1_000_000, 0)
	h := [32]byte{1}
	c.put(h, store.Principal{TokenID: 7}, now)
	if p, ok := c.get(h, now.Add(9*time.Second)); !ok || p.TokenID != 7 {
		t.Fatal("fresh entry missing")
	}
	if _, ok := c.get(h, now.Add(11*time.Second)); ok {
		t.Fatal("expired entry served")
	}
	c.put([32]byte{2}, store.Principal{TokenID: 8, Revoked: true}, now)
	if _, ok := c.get([32]byte{2}, now); ok {
		t.Fatal("revoked token cached")
	}
	c.put([32]byte{3}, store.Principal{}, now.Add(time.Minute)) // sweeps the expired entry
	if len(c.entries) != 1 {
		t.Fatalf("%d entries after the sweep", len(c.entries))
	}
	off := newTokenCache(-1)
	off.put(h, store.Principal{TokenID: 7}, now)
	if _, ok := off.get(h, now); ok {
		t.Fatal("disabled cache served an entry")
	}
}

func TestUnreachableDatabaseIsRetryable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A loopback port that was just free and is closed again: a real connect error from pgx.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = pgconn.Connect(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatalf("connected to %s, which nothing should listen on", addr)
	}
	p := toProblem(fmt.Errorf("ingest: %w", err))
	if p.code != CodeUnavailable || p.Status != 503 || p.retryAfter <= 0 {
		t.Fatalf("connect error %v -> %+v", err, p)
	}
}
