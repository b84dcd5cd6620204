// Package upload sends audit payloads to the server-audit API (DESIGN §6) and keeps the
// ones it could not deliver in an on-disk spool.
//
// A payload is POSTed to <endpoint>/v1/audits with the token as a bearer credential,
// gzip-compressed, with Idempotency-Key set to its audit id, so a retry or a later resend
// of the same payload is answered from the stored audit instead of storing it twice.
//
// Retries (go-retryablehttp) happen only on transport errors and on 408, 429, 502, 503 and
// 504, with jittered exponential backoff (see Policy). Certificate and TLS version errors are
// never retried. Every other answer is final: 2xx is delivered, 401/403 is an
// authentication problem (the token), 400/413/415/422 a payload the server will never accept,
// anything else a temporary failure. The whole upload has one deadline.
//
// The token never appears in a URL, a log line or an error message of this package.
package upload

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/securecodehq/server-audit/pkg/textsafe"
)

// DefaultEndpoint is the product's API.
const DefaultEndpoint = "https://api.securecodehq.com"

// Defaults of Options.
const (
	// DefaultDeadline bounds a whole upload: every attempt and every wait between attempts,
	// for the spooled payloads and the current one together.
	DefaultDeadline = 2 * time.Minute
	// DefaultAttemptTimeout bounds one HTTP attempt (connect, TLS, request and answer).
	DefaultAttemptTimeout = 30 * time.Second
)

// maxTokenLen bounds a token's length; real tokens are 47 characters.
const maxTokenLen = 512

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 10

// Options configures a Client.
type Options struct {
	// Endpoint is the API's base URL (DefaultEndpoint when empty). It must be https://,
	// or http:// to a loopback address.
	Endpoint string
	// Token is the bearer token.
	Token string
	// CAFile, when set, is a PEM file of CA certificates trusted in addition to the
	// system's roots.
	CAFile string
	// UserAgent is sent as User-Agent.
	UserAgent string
	// AttemptTimeout bounds one attempt (DefaultAttemptTimeout when 0).
	AttemptTimeout time.Duration
	// Policy is the retry policy (DefaultPolicy() when zero).
	Policy Policy
	// Logger receives go-retryablehttp's messages and the client's own debug lines. Nil
	// means silent. Nothing logged contains the token or the payload.
	Logger *slog.Logger
}

// Client uploads payloads.
type Client struct {
	endpoint *url.URL
	token    string
	ua       string
	policy   Policy
	http     *http.Client
	log      *slog.Logger
}

// New validates opts and returns a Client. Errors name the offending option and never
// contain the token.
func New(opts Options) (*Client, error) {
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	u, err := ParseEndpoint(opts.Endpoint)
	if err != nil {
		return nil, err
	}
	if err := CheckToken(opts.Token); err != nil {
		return nil, err
	}
	tlsConf, err := TLSConfig(opts.CAFile)
	if err != nil {
		return nil, err
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.Policy == (Policy{}) {
		opts.Policy = DefaultPolicy()
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "server-audit"
	}
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: opts.AttemptTimeout,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Client{
		endpoint: u,
		token:    opts.Token,
		ua:       opts.UserAgent,
		policy:   opts.Policy,
		http: &http.Client{
			Transport: transport,
			Timeout:   opts.AttemptTimeout,
			// The API never redirects; following one could carry the token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		log: opts.Logger,
	}, nil
}

// Endpoint returns the base URL uploads go to.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// ParseEndpoint validates an API base URL: https:// (any host), or http:// only when the
// host is a loopback address (127.0.0.0/8, ::1 or "localhost"). No credentials, query or
// fragment.
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("endpoint %q: not an absolute URL like %s", raw, DefaultEndpoint)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q: must not contain credentials, a query or a fragment", u.Redacted())
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("endpoint %s: plain http:// is refused except to a loopback address; use https://", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("endpoint %q: scheme must be https", raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// CheckToken rejects tokens that cannot be sent in a header. The error never contains the
// token.
func CheckToken(token string) error {
	if token == "" {
		return errors.New("no upload token")
	}
	if len(token) > maxTokenLen {
		return fmt.Errorf("the upload token is longer than %d characters", maxTokenLen)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c >= 0x7f {
			return errors.New("the upload token contains spaces or control characters")
		}
	}
	return nil
}

// TLSConfig returns the client TLS configuration: TLS 1.2 minimum, the system's roots plus
// the certificates of caFile when given.
func TLSConfig(caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return conf, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read --ca-file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate found", caFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// DefaultUserAgent is the User-Agent of an agent of version v.
func DefaultUserAgent(v string) string {
	return fmt.Sprintf("server-audit/%s (%s; %s)", v, runtime.GOOS, runtime.GOARCH)
}

// Accepted is the server's answer to a delivered payload.
type Accepted struct {
	AuditID   string `json:"audit_id"`
	ReportURL string `json:"report_url"`
	Status    string `json:"status"`
	// Duplicate is true when the server already had this audit (Idempotent-Replayed).
	Duplicate bool `json:"-"`
	// Attempts is how many HTTP attempts the delivery took.
	Attempts int `json:"-"`
}

// Kind classifies a failed delivery.
type Kind int

// Failure kinds.
const (
	// Temporary: the server may accept the payload later (transport errors, deadline, 5xx,
	// 429 after the retries, certificate problems the operator can fix). Spool it.
	Temporary Kind = iota + 1
	// Unauthorized: 401 or 403 — the token is unknown, revoked or bound to another
	// address. Retrying with the same token cannot succeed.
	Unauthorized
	// Rejected: 400, 413, 415 or 422 — the server will never accept this payload.
	Rejected
)

// Error is a failed delivery. Its message is meant for the operator and never contains the
// token.
type Error struct {
	Kind Kind
	// Status is the HTTP status of the last answer, 0 when there was none.
	Status int
	// Code is the problem type's short code (e.g. "unauthorized"), when the answer had one.
	Code string
	// Detail is the server's explanation, or a description of the transport failure.
	Detail string
	// Attempts is how many HTTP attempts were made.
	Attempts int
	// Err is the underlying transport error, if any.
	Err error
}

// Error describes the failure in one line.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, "the server answered %d %s", e.Status, http.StatusText(e.Status))
		if e.Code != "" {
			fmt.Fprintf(&b, " (%s)", e.Code)
		}
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
	default:
		b.WriteString(e.Detail)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [after %d attempts]", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the underlying transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// problem is the part of an RFC 9457 answer the agent shows.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// Send delivers one payload (the exact JSON bytes; auditID is its audit_id) within ctx. It
// returns *Error on failure.
func (c *Client) Send(ctx context.Context, auditID string, payload []byte) (*Accepted, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(payload); err != nil {
		return nil, fmt.Errorf("compress payload: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress payload: %w", err)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.endpoint.String()+"/v1/audits", gz.Bytes())
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("Idempotency-Key", auditID)
	req.Header.Set("User-Agent", c.ua)

	attempts := 0
	var lastErr error
	rc := &retryablehttp.Client{
		HTTPClient:   c.http,
		RetryWaitMin: c.policy.WaitMin,
		RetryWaitMax: c.policy.WaitMax,
		RetryMax:     c.policy.MaxRetries,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if err != nil {
				lastErr = err
			} else if resp != nil {
				lastErr = fmt.Errorf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
			}
			return c.policy.CheckRetry(ctx, resp, err)
		},
		Backoff:      c.policy.Backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, _ *http.Request, _ int) {
			attempts++
		},
	}
	if c.log != nil {
		rc.Logger = leveled{c.log}
	}
	resp, err := rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, c.transportError(ctx, err, lastErr, attempts)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	c.debug("upload answered", "audit_id", auditID, "status", resp.StatusCode, "attempts", attempts)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var a Accepted
		if err := json.Unmarshal(body, &a); err != nil || a.AuditID != auditID {
			// Stored all the same: the server only answers 2xx once the audit is committed.
			a = Accepted{AuditID: auditID}
		}
		a.ReportURL = sanitize(a.ReportURL)
		a.Duplicate = strings.EqualFold(resp.Header.Get("Idempotent-Replayed"), "true")
		a.Attempts = attempts
		return &a, nil
	}
	return nil, answerError(resp, body, attempts)
}

// answerError classifies a non-2xx answer.
func answerError(resp *http.Response, body []byte, attempts int) *Error {
	e := &Error{Kind: Temporary, Status: resp.StatusCode, Attempts: attempts}
	var p problem
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") && json.Unmarshal(body, &p) == nil {
		if i := strings.LastIndexByte(p.Type, '#'); i >= 0 {
			e.Code = sanitize(p.Type[i+1:])
		}
		e.Detail = sanitize(p.Detail)
		if e.Detail == "" {
			e.Detail = sanitize(p.Title)
		}
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Kind = Unauthorized
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		e.Kind = Rejected
	}
	return e
}

// sanitize keeps a server-provided message to one printable line of bounded length: line
// breaks and tabs become spaces, other control characters (C0, DEL, C1) visible escapes, so a
// hostile endpoint cannot drive the terminal, and the text is cut at 300 bytes on a
// character boundary.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(textsafe.Escape(s, textsafe.Control))
	if len(s) > 300 {
		cut := 300
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// transportError describes a failure without an HTTP answer.
func (c *Client) transportError(ctx context.Context, err, lastErr error, attempts int) *Error {
	e := &Error{Kind: Temporary, Attempts: attempts, Err: err}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var beyond *retryAfterError
	switch {
	case errors.As(err, &beyond):
		e.Status = beyond.status
		e.Detail = beyond.Error()
	case errors.As(err, &unknownCA):
		e.Detail = fmt.Sprintf("the certificate of %s is signed by an unknown authority; "+
			"if the API uses a private CA, pass its certificate with --ca-file (or ca_file in the configuration)", c.endpoint.Host)
	case errors.As(err, &hostErr):
		e.Detail = fmt.Sprintf("the certificate of %s is not valid for that name: %v", c.endpoint.Host, hostErr)
	case errors.As(err, &certErr):
		e.Detail = fmt.Sprintf("the certificate of %s was refused: %v", c.endpoint.Host, certErr.Err)
	case isTLSVersionError(err):
		e.Detail = fmt.Sprintf("%s does not offer TLS 1.2 or later: refused", c.endpoint.Host)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		e.Detail = fmt.Sprintf("no answer from %s before the upload deadline", c.endpoint.Host)
		if lastErr != nil && !errors.Is(lastErr, context.DeadlineExceeded) && !errors.Is(lastErr, context.Canceled) {
			e.Detail += fmt.Sprintf(" (last attempt: %v)", describe(lastErr))
		}
	default:
		e.Detail = fmt.Sprintf("cannot reach %s: %v", c.endpoint.Host, describe(err))
	}
	return e
}

// describe returns the innermost useful part of a transport error (without the URL, which
// go-retryablehttp and net/http put in front).
func describe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) debug(msg string, args ...any) {
	if c.log != nil {
		c.log.Debug(msg, args...)
	}
}

// leveled adapts slog to go-retryablehttp's LeveledLogger. Everything goes out at debug
// level, so the library is silent unless the agent runs with --verbose.
type leveled struct{ l *slog.Logger }

func (l leveled) Error(msg string, kv ...any) { l.l.Debug("upload: "+msg, kv...) }
func (l leveled) Info(msg string, kv ...any)  { l.l.Debug("upload: "+msg, kv...) }
func (l leveled) Debug(msg string, kv ...any) { l.l.Debug("upload: "+msg, kv...) }
func (l leveled) Warn(msg string, kv ...any)  { l.l.Debug("upload: "+msg, kv...) }
