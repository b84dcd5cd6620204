package api

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// AcceptedResponse is the body of a 202 answer to POST /v1/audits. It depends only on the
// audit id and the report URL base, so an idempotent replay returns the same bytes.
type AcceptedResponse struct {
	AuditID   string `json:"audit_id"`
	ReportURL string `json:"report_url"`
	// Status is always "accepted": the audit is stored and its report is being generated.
	Status string `json:"status"`
}

// postAudit is POST /v1/audits.
func (a *API) postAudit(c *echo.Context) error {
	req := c.Request()
	p := principalOf(c)
	clientIP := clientIPOf(c)
	if p.BoundIP.IsValid() && p.BoundIP != clientIP {
		// Refuse before reading the body. Unbound tokens are bound inside the ingest
		// transaction.
		return problem(http.StatusForbidden, CodeIPMismatch, "this token is bound to another address")
	}
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return problem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	key, hasKey, err := idempotencyKey(req.Header)
	if err != nil {
		return err
	}
	decoded, err := a.opts.Decoder.Decode(req.Body, req.ContentLength,
		strings.Join(req.Header.Values("Content-Encoding"), ","))
	if err != nil {
		return ingestProblem(err)
	}
	if hasKey && key != decoded.Payload.AuditID {
		return problem(http.StatusBadRequest, CodeInvalidIdempotencyKey, "Idempotency-Key must equal the payload's audit_id")
	}
	out, err := a.opts.Ingest.Ingest(req.Context(), ingest.Request{Principal: p, ClientIP: clientIP, Decoded: decoded})
	if err != nil {
		return ingestProblem(err)
	}
	outcome := "stored"
	if out.Replayed {
		outcome = "replayed"
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	a.metrics.ingested.WithLabelValues(outcome).Inc()
	return c.JSON(http.StatusAccepted, AcceptedResponse{
		AuditID:   out.AuditID,
		ReportURL: a.reportURL(c, out.AuditID),
		Status:    "accepted",
	})
}

// idempotencyKey reads the optional Idempotency-Key header (a plain or quoted string, per
// the IETF draft's structured-field form). When present it must be a lowercase UUID.
func idempotencyKey(h http.Header) (string, bool, error) {
	values := h.Values("Idempotency-Key")
	if len(values) == 0 {
		return "", false, nil
	}
	bad := problem(http.StatusBadRequest, CodeInvalidIdempotencyKey,
		"Idempotency-Key must be one UUID, the payload's audit_id")
	if len(values) > 1 {
		return "", false, bad
	}
	v := strings.TrimSpace(values[0])
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if _, err := store.ParseUUID(v); err != nil || strings.ToLower(v) != v {
		return "", false, bad
	}
	return v, true, nil
}

// ingestProblem maps ingest errors to problems.
func ingestProblem(err error) error {
	var ie *ingest.Error
	if !errors.As(err, &ie) {
		return err
	}
	switch ie.Kind {
	case ingest.KindTooLarge:
		return problem(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, ie.Detail)
	case ingest.KindUnsupportedEncoding:
		return problem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, ie.Detail)
	case ingest.KindUnsupportedSchema:
		return problem(http.StatusUnprocessableEntity, CodeUnsupportedSchema, ie.Detail)
	case ingest.KindIPMismatch:
		return problem(http.StatusForbidden, CodeIPMismatch, ie.Detail)
	case ingest.KindIdempotencyConflict:
		return problem(http.StatusUnprocessableEntity, CodeIdempotencyConflict, ie.Detail)
	case ingest.KindBadRequest:
		return problem(http.StatusBadRequest, CodeBadRequest, ie.Detail)
	case ingest.KindUnauthorized:
		return problem(http.StatusUnauthorized, CodeUnauthorized, "send a valid, unrevoked token as Authorization: Bearer <token>")
	}
	// The validation message names fields and check ids, never values the agent observed
	// beyond what the grammar allows: it is safe to return (it is not logged).
	return problem(http.StatusUnprocessableEntity, CodeInvalidPayload, ie.Error())
}

// reportURL is the absolute URL of an audit's report: under the configured public URL, or
// built from the request (scheme from TLS, or X-Forwarded-Proto from a trusted proxy).
func (a *API) reportURL(c *echo.Context, auditID string) string {
	path := "/v1/audits/" + auditID + "/report"
	if base := a.opts.PublicURL; base != nil {
		return strings.TrimSuffix(base.String(), "/") + path
	}
	req := c.Request()
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	} else if peer := parseHop(req.RemoteAddr); peer.IsValid() && a.ips.isTrusted(peer) {
		if p := strings.ToLower(strings.TrimSpace(req.Header.Get("X-Forwarded-Proto"))); p == "https" || p == "http" {
			scheme = p
		}
	}
	u := url.URL{Scheme: scheme, Host: req.Host, Path: path}
	return u.String()
}

// Report formats, in the server's order of preference.
const (
	formatJSON     = "application/json"
	formatMarkdown = "text/markdown"
	formatHTML     = "text/html"
)

// negotiate picks a report format from an Accept header: the highest q wins, ties go to the
// server's order (JSON, Markdown, HTML); no Accept means JSON. It returns "" when nothing
// offered is acceptable.
func negotiate(accept string) string {
	if strings.TrimSpace(accept) == "" {
		return formatJSON
	}
	best, bestQ := "", 0.0
	for _, offer := range []string{formatJSON, formatMarkdown, formatHTML} {
		// Strictly greater: on a tie the earlier (preferred) offer stays.
		if q := acceptQ(accept, offer); q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

// acceptQ returns the q value that the most specific range of accept matching offer gives
// it (type/subtype before type/* before */*), 0 when no range matches.
func acceptQ(accept, offer string) float64 {
	q, spec := 0.0, -1
	typ, _, _ := strings.Cut(offer, "/")
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		s := -1
		switch {
		case mt == offer:
			s = 2
		case mt == typ+"/*":
			s = 1
		case mt == "*/*":
			s = 0
		}
		if s < 0 || s < spec {
			continue
		}
		pq := 1.0
		if v, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			pq = f
		}
		if s > spec || pq > q {
			q, spec = pq, s
		}
	}
	return q
}

// ReportResponse is the JSON form of a ready report.
type ReportResponse struct {
	AuditID     string          `json:"audit_id"`
	Status      string          `json:"status"`
	GeneratedAt *time.Time      `json:"generated_at,omitempty"`
	Summary     json.RawMessage `json:"summary,omitempty"`
	ReportURL   string          `json:"report_url,omitempty"`
}

// getReport is GET /v1/audits/:id/report.
func (a *API) getReport(c *echo.Context) error {
	id := c.Param("id")
	if _, err := store.ParseUUID(id); err != nil || strings.ToLower(id) != id {
		return problem(http.StatusNotFound, CodeNotFound, "no such audit")
	}
	format := negotiate(c.Request().Header.Get("Accept"))
	c.Response().Header().Set("Vary", "Accept")
	if format == "" {
		return problem(http.StatusNotAcceptable, CodeNotAcceptable,
			"the report is available as application/json, text/markdown or text/html")
	}
	r, err := a.opts.Store.GetReport(c.Request().Context(), principalOf(c).AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return problem(http.StatusNotFound, CodeNotFound, "no such audit")
	}
	if err != nil {
		return err
	}
	switch r.Status {
	case store.ReportPending:
		c.Response().Header().Set("Retry-After", "2")
		return c.JSON(http.StatusAccepted, ReportResponse{AuditID: id, Status: r.Status, ReportURL: a.reportURL(c, id)})
	case store.ReportFailed:
		return problem(http.StatusInternalServerError, CodeReportFailed,
			"the report could not be generated after "+strconv.Itoa(r.Attempts)+" attempts")
	}
	switch format {
	case formatMarkdown:
		return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", []byte(r.Markdown))
	case formatHTML:
		c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		return c.Blob(http.StatusOK, "text/html; charset=utf-8", []byte(r.HTML))
	}
	return c.JSON(http.StatusOK, ReportResponse{AuditID: id, Status: r.Status, GeneratedAt: r.GeneratedAt, Summary: r.Summary})
}

// healthz answers while the process serves HTTP; it touches nothing else.
func (a *API) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database answers and every migration (the application's and
// River's) is applied, 503 otherwise.
func (a *API) readyz(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := a.opts.Ready(ctx); err != nil {
		c.Logger().Warn("not ready", "error", err.Error())
		detail := "the database is unreachable"
		if errors.Is(err, store.ErrSchemaNotCurrent) {
			detail = "database migrations are pending"
		}
		return problem(http.StatusServiceUnavailable, CodeUnavailable, detail)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
