// Package api is the HTTP surface of server-audit-api: Echo v5 routes, middleware (request
// ids, logs, metrics, deadlines, rate limits, bearer authentication) and RFC 9457
// problem+json errors.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// Default limits.
const (
	DefaultRequestTimeout = 15 * time.Second
)

// Default rate limits: an agent uploads once per run, so a token gets a burst of 20
// requests and one more every 5 seconds; an address (a NAT may hide several servers) a burst
// of 60 and 5 per second.
const (
	DefaultTokenRatePerSecond = 0.2
	DefaultTokenBurst         = 20
	DefaultIPRatePerSecond    = 5
	DefaultIPBurst            = 60
)

// Options configures the API.
type Options struct {
	Store   *store.Store
	Ingest  *ingest.Service
	Decoder *ingest.Decoder
	Logger  *slog.Logger
	// Ready reports whether the service can take traffic (database reachable, migrations
	// current); /readyz calls it.
	Ready func(ctx context.Context) error
	// TrustedProxies are the peers whose X-Forwarded-For (and X-Forwarded-Proto) is honoured.
	TrustedProxies []netip.Prefix
	// PublicURL, when set, is the base of report URLs; otherwise they are built from the
	// request's Host and scheme.
	PublicURL *url.URL
	// RequestTimeout is the deadline of each request's context (DefaultRequestTimeout if 0).
	RequestTimeout time.Duration
	TokenRate      RateLimit
	IPRate         RateLimit
	// Registry receives the API's metrics and is served at /metrics; a new one when nil.
	Registry *prometheus.Registry
	// HSTS sends Strict-Transport-Security (set when the server terminates TLS itself).
	HSTS bool
	// TokenCacheTTL is how long uploads may be authenticated from memory
	// (DefaultTokenCacheTTL when 0, off when negative); see tokenCache.
	TokenCacheTTL time.Duration
}

// API is the HTTP handler of server-audit-api.
type API struct {
	opts      Options
	log       *slog.Logger
	echo      *echo.Echo
	ips       *IPResolver
	tokenRate *limiter
	ipRate    *limiter
	tokens    *tokenCache
	metrics   *metrics
}

// Context keys set by the middleware.
const (
	keyRequestID = "request_id"
	keyClientIP  = "client_ip"
	keyPrincipal = "principal"
)

// Route templates (also the metric label values).
const (
	routeAudits  = "/v1/audits"
	routeReport  = "/v1/audits/:id/report"
	routeHealthz = "/healthz"
	routeReadyz  = "/readyz"
	routeMetrics = "/metrics"
)

// New builds the API.
func New(opts Options) (*API, error) {
	if opts.Store == nil || opts.Ingest == nil || opts.Decoder == nil || opts.Logger == nil || opts.Ready == nil {
		return nil, errors.New("api: Store, Ingest, Decoder, Logger and Ready are required")
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.TokenCacheTTL == 0 {
		opts.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("api: register metrics: %w", err)
	}
	a := &API{
		opts:      opts,
		log:       opts.Logger,
		ips:       NewIPResolver(opts.TrustedProxies),
		tokenRate: newLimiter(opts.TokenRate),
		ipRate:    newLimiter(opts.IPRate),
		tokens:    newTokenCache(opts.TokenCacheTTL),
		metrics:   m,
	}
	e := echo.NewWithConfig(echo.Config{
		Logger:                       opts.Logger,
		HTTPErrorHandler:             func(c *echo.Context, err error) { _ = a.respondError(c, err) },
		IPExtractor:                  func(r *http.Request) string { return a.ips.Resolve(r).String() },
		NoGroupAutoRegister404Routes: true,
	})
	e.Use(a.observe)
	e.GET(routeHealthz, a.healthz)
	e.GET(routeReadyz, a.readyz)
	e.GET(routeMetrics, echo.WrapHandler(promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{})))
	v1 := e.Group("/v1", a.limitIP, a.authenticate, a.limitToken)
	v1.POST("/audits", a.postAudit)
	v1.GET("/audits/:id/report", a.getReport)
	a.echo = e
	return a, nil
}

// ServeHTTP serves a request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.echo.ServeHTTP(w, r) }

// observe is the outermost middleware: request id, client address, security headers, the
// request deadline, panic recovery, error responses, the access log and metrics. It logs
// method, route, status, duration, sizes and the client address; never a header value
// other than the request id, never the body.
func (a *API) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		req := c.Request()
		rid := requestID(req.Header.Get("X-Request-ID"))
		c.Set(keyRequestID, rid)
		clientIP := a.ips.Resolve(req)
		c.Set(keyClientIP, clientIP)
		logger := a.log.With("request_id", rid)
		c.SetLogger(logger)

		h := c.Response().Header()
		h.Set("X-Request-ID", rid)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		if a.opts.HSTS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}

		ctx, cancel := context.WithTimeout(req.Context(), a.opts.RequestTimeout)
		defer cancel()
		c.SetRequest(req.WithContext(ctx))

		a.metrics.inFlight.Inc()
		defer a.metrics.inFlight.Dec()
		err := a.recoverCall(next, c)
		if err != nil {
			err = a.respondError(c, err)
		}

		route := c.Path()
		if route == "" || c.RouteInfo().Method == "" {
			route = "unmatched"
		}
		status := http.StatusOK
		var size int64
		if r, _ := echo.UnwrapResponse(c.Response()); r != nil {
			status, size = r.Status, r.Size
		}
		method := methodLabel(req.Method)
		elapsed := time.Since(start)
		a.metrics.requests.WithLabelValues(route, method, classLabel(status)).Inc()
		a.metrics.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		logger.LogAttrs(ctx, level, "request",
			slog.String("method", method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes_in", max(req.ContentLength, 0)),
			slog.Int64("bytes_out", size),
			slog.String("client_ip", clientIP.String()))
		return err
	}
}

// recoverCall runs next, turning a panic into an internal error.
func (a *API) recoverCall(next echo.HandlerFunc, c *echo.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			c.Logger().Error("panic serving request", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = internalError(fmt.Errorf("panic: %v", r))
		}
	}()
	return next(c)
}

// respondError writes err as a problem and records it. It returns nil once written.
func (a *API) respondError(c *echo.Context, err error) error {
	p := toProblem(err)
	q := *p // problems may be shared values: never modify them
	if rid, ok := c.Get(keyRequestID).(string); ok {
		q.RequestID = rid
	}
	a.metrics.problems.WithLabelValues(q.code).Inc()
	if q.Status >= 500 {
		// The cause is the server's own error chain (operations and database errors), never
		// payload content.
		cause := ""
		if q.cause != nil {
			cause = q.cause.Error()
		}
		c.Logger().Error("request failed", "problem", q.code, "error", cause)
	}
	if werr := writeProblem(c, &q); werr != nil {
		c.Logger().Warn("write problem response", "error", werr.Error())
	}
	return nil
}

// requestID returns the client's X-Request-ID when it is short and plain, else a new one.
func requestID(in string) string {
	if n := len(in); n > 0 && n <= 64 {
		ok := true
		for i := 0; i < n && ok; i++ {
			ch := in[i]
			ok = ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.'
		}
		if ok {
			return in
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func clientIPOf(c *echo.Context) netip.Addr {
	a, _ := c.Get(keyClientIP).(netip.Addr)
	return a
}

func principalOf(c *echo.Context) store.Principal {
	p, _ := c.Get(keyPrincipal).(store.Principal)
	return p
}

// limitIP applies the per-address rate limit, before authentication.
func (a *API) limitIP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if ok, wait := a.ipRate.allow(ipKey(clientIPOf(c)), time.Now()); !ok {
			a.metrics.rateLimits.WithLabelValues("ip").Inc()
			return rateLimited(wait)
		}
		return next(c)
	}
}

// limitToken applies the per-token rate limit, after authentication.
func (a *API) limitToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		key := fmt.Sprint(principalOf(c).TokenID)
		if ok, wait := a.tokenRate.allow(key, time.Now()); !ok {
			a.metrics.rateLimits.WithLabelValues("token").Inc()
			return rateLimited(wait)
		}
		return next(c)
	}
}

func rateLimited(wait time.Duration) *Problem {
	p := problem(http.StatusTooManyRequests, CodeRateLimited, "rate limit exceeded; retry after the Retry-After delay")
	p.retryAfter = min(wait, 24*time.Hour)
	return p
}

// authenticate checks the bearer token. Missing, malformed, unknown and revoked tokens all
// get the same 401 answer. The token is read from the Authorization header only. Uploads
// may be authenticated from the token cache (the ingest transaction re-checks the token);
// everything else looks it up.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		unauthorized := problem(http.StatusUnauthorized, CodeUnauthorized,
			"send a valid, unrevoked token as Authorization: Bearer <token>")
		scheme, token, ok := strings.Cut(c.Request().Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || !store.WellFormedToken(token) {
			return unauthorized
		}
		hash := store.HashToken(token)
		cacheable := c.Request().Method == http.MethodPost && c.Path() == routeAudits
		now := time.Now()
		p, hit := store.Principal{}, false
		if cacheable {
			p, hit = a.tokens.get(hash, now)
		}
		if !hit {
			var err error
			p, err = a.opts.Store.LookupTokenHash(c.Request().Context(), hash)
			if errors.Is(err, store.ErrNotFound) || err == nil && p.Revoked {
				return unauthorized
			}
			if err != nil {
				return fmt.Errorf("authenticate: %w", err)
			}
			if cacheable {
				a.tokens.put(hash, p, now)
			}
		}
		c.Set(keyPrincipal, p)
		return next(c)
	}
}
