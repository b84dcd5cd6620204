package upload

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy is the retry policy of an upload (DESIGN §6).
//
// Retried: transport errors (refused or reset connections, timeouts of one attempt) and the
// answers 408, 429, 502, 503 and 504. Never retried: certificate and TLS version errors, and
// every other answer. The wait before retry n (0-based) is drawn uniformly from
// [d/2, d] with d = min(WaitMin·2ⁿ, WaitMax). A Retry-After header on 429 and 503 replaces
// that wait when it is at most RetryAfterCap and ends before the upload's deadline;
// otherwise the upload stops at once (and the payload is spooled) instead of sleeping.
type Policy struct {
	// MaxRetries is the number of retries after the first attempt.
	MaxRetries int
	// WaitMin and WaitMax bound the exponential backoff.
	WaitMin, WaitMax time.Duration
	// RetryAfterCap caps a server's Retry-After.
	RetryAfterCap time.Duration
}

// DefaultPolicy: 5 retries (6 attempts), backoff from 1 s doubling up to 30 s (about
// 30 s of waiting in all when every attempt fails fast), Retry-After capped at 60 s.
func DefaultPolicy() Policy {
	return Policy{MaxRetries: 5, WaitMin: time.Second, WaitMax: 30 * time.Second, RetryAfterCap: time.Minute}
}

// retryAfterError stops an upload whose server asks for a wait longer than the cap or
// beyond the deadline.
type retryAfterError struct {
	status   int
	asked    time.Duration
	limit    time.Duration
	deadline bool
}

func (e *retryAfterError) Error() string {
	why := fmt.Sprintf("longer than the %s this agent waits", e.limit)
	if e.deadline {
		why = "past the upload deadline"
	}
	return fmt.Sprintf("the server answered %d %s and asked to retry after %s, %s",
		e.status, http.StatusText(e.status), e.asked, why)
}

// Retryable reports whether an HTTP status is worth retrying.
func Retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// CheckRetry is the go-retryablehttp CheckRetry of the policy.
func (p Policy) CheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if permanentTransportError(err) {
			return false, err
		}
		return true, nil
	}
	if !Retryable(resp.StatusCode) {
		return false, nil
	}
	if asked, ok := retryAfter(resp); ok {
		if asked > p.RetryAfterCap {
			return false, &retryAfterError{status: resp.StatusCode, asked: asked, limit: p.RetryAfterCap}
		}
		if deadline, has := ctx.Deadline(); has && time.Now().Add(asked).After(deadline) {
			return false, &retryAfterError{status: resp.StatusCode, asked: asked, deadline: true}
		}
	}
	return true, nil
}

// Backoff is the go-retryablehttp Backoff of the policy. attempt counts retries from 0.
func (p Policy) Backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if asked, ok := retryAfter(resp); ok {
			// CheckRetry has already refused waits above the cap; min keeps it a bound.
			return min(asked, p.RetryAfterCap)
		}
	}
	d := maxWait
	if attempt < 30 {
		if exp := minWait << attempt; exp > 0 && exp < maxWait {
			d = exp
		}
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses Retry-After (seconds or an HTTP date) on 429 and 503 answers.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(365*24*time.Hour/time.Second) {
			secs = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// permanentTransportError recognises failures that a retry cannot fix: the server's
// certificate is not trusted or not valid, or it does not speak TLS 1.2 or later.
func permanentTransportError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		return true
	case errors.As(err, &recordErr):
		// Not TLS at all (e.g. an http:// server behind an https:// endpoint).
		return true
	}
	return isTLSVersionError(err)
}

// isTLSVersionError recognises a handshake that failed because no TLS version ≥ 1.2 is
// common to both sides: an alert from the server, or the client's own refusal.
func isTLSVersionError(err error) bool {
	var alert tls.AlertError
	if errors.As(err, &alert) && strings.Contains(alert.Error(), "protocol version") {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls: server selected unsupported protocol version") ||
		strings.Contains(msg, "tls: protocol version not supported") ||
		strings.Contains(msg, "tls: no supported versions")
}
