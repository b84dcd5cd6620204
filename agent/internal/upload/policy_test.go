package upload

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestCheckRetry(t *testing.T) {
	p := DefaultPolicy()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	for _, tc := range []struct {
		status     int
		retryAfter string
		want       bool
		wantErr    bool
	}{
		{200, "", false, false},
		{202, "", false, false},
		{400, "", false, false},
		{401, "", false, false},
		{403, "", false, false},
		{404, "", false, false},
		{408, "", true, false},
		{413, "", false, false},
		{422, "", false, false},
		{429, "", true, false},
		{429, "5", true, false},
		{429, "3600", false, true}, // beyond the cap: stop and spool
		{500, "", false, false},
		{501, "", false, false},
		{502, "", true, false},
		{503, "", true, false},
		{503, "2", true, false},
		{504, "", true, false},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
		if tc.retryAfter != "" {
			resp.Header.Set("Retry-After", tc.retryAfter)
		}
		got, err := p.CheckRetry(ctx, resp, nil)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("status %d Retry-After %q: retry=%v err=%v, want retry=%v err=%v", tc.status, tc.retryAfter, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestCheckRetryRetryAfterBeyondDeadline(t *testing.T) {
	p := DefaultPolicy()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"30"}}}
	retry, err := p.CheckRetry(ctx, resp, nil)
	var rae *retryAfterError
	if retry || !errors.As(err, &rae) || !rae.deadline {
		t.Errorf("a Retry-After past the deadline: retry=%v err=%v; want an immediate stop", retry, err)
	}
}

func TestCheckRetryTransportErrors(t *testing.T) {
	p := DefaultPolicy()
	ctx := context.Background()
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: "https://x/v1/audits", Err: err} }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", wrap(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{"reset", wrap(errors.New("read: connection reset by peer")), true},
		{"timeout", wrap(context.DeadlineExceeded), true},
		{"unknown CA", wrap(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), false},
		{"bad host", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}), false},
		{"expired", wrap(x509.CertificateInvalidError{Reason: x509.Expired}), false},
		{"not TLS", wrap(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), false},
		{"old TLS", wrap(errors.New("tls: server selected unsupported protocol version 302")), false},
	} {
		if got, _ := p.CheckRetry(ctx, nil, tc.err); got != tc.want {
			t.Errorf("%s: retry=%v, want %v", tc.name, got, tc.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := p.CheckRetry(cancelled, nil, wrap(errors.New("connection refused"))); got || err == nil {
		t.Errorf("cancelled context: retry=%v err=%v; want no retry", got, err)
	}
}

func TestBackoffBounds(t *testing.T) {
	p := DefaultPolicy()
	for attempt := 0; attempt < 40; attempt++ {
		want := min(p.WaitMin<<min(attempt, 30), p.WaitMax)
		if attempt >= 30 {
			want = p.WaitMax
		}
		for range 200 {
			d := p.Backoff(p.WaitMin, p.WaitMax, attempt, nil)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: wait %s outside [%s, %s]", attempt, d, want/2, want)
			}
		}
	}
	// Jitter: waits differ.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[p.Backoff(p.WaitMin, p.WaitMax, 3, nil)] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct waits in 50: no jitter", len(seen))
	}
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"7", 7 * time.Second},
		{"0", 0},
		{"3600", p.RetryAfterCap},
		{strconv.Itoa(1 << 40), p.RetryAfterCap},
		{time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat), 10 * time.Second},
	} {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {tc.header}}}
		d := p.Backoff(p.WaitMin, p.WaitMax, 0, resp)
		if d > tc.want || d < tc.want-time.Second {
			t.Errorf("Retry-After %q: wait %s, want about %s", tc.header, d, tc.want)
		}
	}
	// Retry-After is only read on 429 and 503.
	resp := &http.Response{StatusCode: 502, Header: http.Header{"Retry-After": {"50"}}}
	if d := p.Backoff(p.WaitMin, p.WaitMax, 0, resp); d > p.WaitMin {
		t.Errorf("Retry-After on 502 honoured: %s", d)
	}
}
