package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v5"
)

// ProblemTypeBase prefixes every problem type: the type is an absolute URI that points at
// the problem's section of docs/api.md. Clients compare the whole string; the last path
// fragment (after '#') is the short code, e.g. "unauthorized".
const ProblemTypeBase = "https://github.com/securecodehq/server-audit/blob/main/docs/api.md#"

// Problem codes: the stable part of a problem's type.
const (
	CodeUnauthorized          = "unauthorized"
	CodeIPMismatch            = "ip_mismatch"
	CodePayloadTooLarge       = "payload_too_large"
	CodeInvalidPayload        = "invalid_payload"
	CodeUnsupportedSchema     = "unsupported_schema"
	CodeIdempotencyConflict   = "idempotency_conflict"
	CodeInvalidIdempotencyKey = "invalid_idempotency_key"
	CodeRateLimited           = "rate_limited"
	CodeNotFound              = "not_found"
	CodeMethodNotAllowed      = "method_not_allowed"
	CodeNotAcceptable         = "not_acceptable"
	CodeUnsupportedMediaType  = "unsupported_media_type"
	CodeBadRequest            = "bad_request"
	CodeTimeout               = "timeout"
	CodeReportFailed          = "report_failed"
	CodeUnavailable           = "unavailable"
	CodeInternal              = "internal"
)

// Problem is an RFC 9457 problem detail. It is also an error, so handlers return it.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// RequestID is an extension member: the id to quote when asking about the request.
	RequestID string `json:"request_id,omitempty"`

	code string
	// retryAfter, when positive, is sent as Retry-After (whole seconds, rounded up).
	retryAfter time.Duration
	// cause is logged for internal errors, never sent.
	cause error
}

func (p *Problem) Error() string {
	if p.cause != nil {
		return p.code + ": " + p.Detail + ": " + p.cause.Error()
	}
	return p.code + ": " + p.Detail
}

// Unwrap returns the internal cause.
func (p *Problem) Unwrap() error { return p.cause }

// Code returns the short code of the problem type.
func (p *Problem) Code() string { return p.code }

// title returns the fixed, human-readable summary of a problem type.
func title(code string) string {
	switch code {
	case CodeUnauthorized:
		return "Missing, unknown or revoked token"
	case CodeIPMismatch:
		return "Token bound to another address"
	case CodePayloadTooLarge:
		return "Request body too large"
	case CodeInvalidPayload:
		return "Invalid payload"
	case CodeUnsupportedSchema:
		return "Unsupported schema version"
	case CodeIdempotencyConflict:
		return "Idempotency key reused with a different body"
	case CodeInvalidIdempotencyKey:
		return "Invalid Idempotency-Key"
	case CodeRateLimited:
		return "Too many requests"
	case CodeNotFound:
		return "Not found"
	case CodeMethodNotAllowed:
		return "Method not allowed"
	case CodeNotAcceptable:
		return "Not acceptable"
	case CodeUnsupportedMediaType:
		return "Unsupported media type"
	case CodeBadRequest:
		return "Bad request"
	case CodeTimeout:
		return "Request timed out"
	case CodeReportFailed:
		return "Report generation failed"
	case CodeUnavailable:
		return "Service unavailable"
	}
	return "Internal error"
}

// problem builds a Problem of code with status and detail.
func problem(status int, code, detail string) *Problem {
	return &Problem{Type: ProblemTypeBase + code, Title: title(code), Status: status, Detail: detail, code: code}
}

func internalError(err error) *Problem {
	p := problem(http.StatusInternalServerError, CodeInternal, "the server could not complete the request")
	p.cause = err
	return p
}

// toProblem maps any error a handler or middleware returns to a Problem.
func toProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if databaseUnavailable(err) {
		q := problem(http.StatusServiceUnavailable, CodeUnavailable, "the database is unavailable; retry later")
		q.cause = err
		q.retryAfter = 2 * time.Second
		return q
	}
	if errors.Is(err, context.DeadlineExceeded) {
		q := problem(http.StatusServiceUnavailable, CodeTimeout, "the request did not complete in time")
		q.cause = err
		return q
	}
	var sc echo.HTTPStatusCoder
	if errors.As(err, &sc) {
		switch code := sc.StatusCode(); {
		case code == http.StatusNotFound:
			return problem(code, CodeNotFound, "no such resource")
		case code == http.StatusMethodNotAllowed:
			return problem(code, CodeMethodNotAllowed, "the resource does not support this method")
		case code == http.StatusRequestEntityTooLarge:
			return problem(code, CodePayloadTooLarge, "the request body is too large")
		case code == http.StatusUnsupportedMediaType:
			return problem(code, CodeUnsupportedMediaType, "unsupported media type")
		case code == http.StatusUnauthorized:
			return problem(code, CodeUnauthorized, "a valid bearer token is required")
		case code == http.StatusTooManyRequests:
			return problem(code, CodeRateLimited, "too many requests")
		case code >= 400 && code < 500:
			return problem(code, CodeBadRequest, http.StatusText(code))
		}
	}
	return internalError(err)
}

// databaseUnavailable recognises a database that cannot be reached or is shutting down
// (connection refused, connection lost, SQLSTATE classes 08 and 57P). The request did not
// complete and may be retried: uploads are idempotent.
func databaseUnavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return pgconn.SafeToRetry(err)
}

// writeProblem sends p as application/problem+json.
func writeProblem(c *echo.Context, p *Problem) error {
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		return nil
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/problem+json")
	if p.retryAfter > 0 {
		secs := int64((p.retryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
	if p.code == CodeUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="server-audit", error="invalid_token"`)
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(p.Status)
	}
	return c.JSON(p.Status, p)
}
