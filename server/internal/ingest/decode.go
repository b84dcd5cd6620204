// Package ingest turns an upload into stored rows: it decodes and validates the body
// (size limits, gzip, strict JSON, the catalog's fact grammar) and then stores the server,
// the audit, its results and the generate_report job in one transaction.
package ingest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
)

// Default body limits.
const (
	DefaultMaxBody         = 1 << 20 // compressed (as sent), 1 MiB
	DefaultMaxDecompressed = 8 << 20 // after gzip, 8 MiB
)

// Kind classifies an ingest failure; the API maps each to a status and problem type.
type Kind int

// Failure kinds.
const (
	// KindTooLarge: the body or its decompressed form exceeds a limit (413).
	KindTooLarge Kind = iota + 1
	// KindUnsupportedEncoding: a Content-Encoding other than gzip or identity (415).
	KindUnsupportedEncoding
	// KindInvalidPayload: not gzip, not JSON, or not a valid payload (422).
	KindInvalidPayload
	// KindUnsupportedSchema: a schema_version this server does not accept (422).
	KindUnsupportedSchema
	// KindIPMismatch: the client address is not the token's bound address (403).
	KindIPMismatch
	// KindIdempotencyConflict: the audit id exists with a different body (422).
	KindIdempotencyConflict
	// KindBadRequest: the request body could not be read (400).
	KindBadRequest
	// KindUnauthorized: the token was revoked after it authenticated the request (401).
	KindUnauthorized
)

// Error is an ingest failure with a detail that is safe to return to the client. It never
// carries payload content, so it is also safe to log.
type Error struct {
	Kind   Kind
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

func newError(kind Kind, detail string, err error) *Error {
	return &Error{Kind: kind, Detail: detail, Err: err}
}

// Limits bounds what Decode reads.
type Limits struct {
	// MaxBody is the most bytes read from the request body as sent.
	MaxBody int64
	// MaxDecompressed is the most bytes a gzip body may decompress to.
	MaxDecompressed int64
}

// Decoded is a validated payload and the fingerprint of the body it came from.
type Decoded struct {
	Payload *report.Payload
	// BodySHA256 is the SHA-256 of the decompressed body: the idempotency fingerprint.
	BodySHA256 [32]byte
}

// Decoder decodes request bodies. It is safe for concurrent use and reuses its buffers and
// gzip readers.
type Decoder struct {
	limits Limits
	cat    *catalog.Catalog
	intern internTable
	bufs   sync.Pool
	gzips  sync.Pool
}

// NewDecoder returns a Decoder with limits (zero fields take the defaults) validating
// against cat.
func NewDecoder(cat *catalog.Catalog, limits Limits) *Decoder {
	if limits.MaxBody <= 0 {
		limits.MaxBody = DefaultMaxBody
	}
	if limits.MaxDecompressed <= 0 {
		limits.MaxDecompressed = DefaultMaxDecompressed
	}
	d := &Decoder{limits: limits, cat: cat, intern: newInternTable(cat)}
	d.bufs.New = func() any { return new(bytes.Buffer) }
	return d
}

// Limits returns the decoder's effective limits.
func (d *Decoder) Limits() Limits { return d.limits }

// Decode reads a body of declared length contentLength (-1 when unknown) with the given
// Content-Encoding, enforces the limits, and decodes and validates the payload against the
// catalog with the rules of report.DecodePayload (strict JSON, then Payload.Validate; see
// decodeCanonical for the fast path). The score and grade must be those the results give
// (pkg/score), the same computation the agent makes.
func (d *Decoder) Decode(body io.Reader, contentLength int64, contentEncoding string) (*Decoded, error) {
	gzipped, err := parseEncoding(contentEncoding)
	if err != nil {
		return nil, err
	}
	if contentLength > d.limits.MaxBody {
		return nil, newError(KindTooLarge, fmt.Sprintf("the body exceeds %d bytes", d.limits.MaxBody), nil)
	}
	raw := d.bufs.Get().(*bytes.Buffer)
	defer d.putBuf(raw)
	raw.Reset()
	n, err := raw.ReadFrom(io.LimitReader(body, d.limits.MaxBody+1))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, newError(KindTooLarge, fmt.Sprintf("the body exceeds %d bytes", d.limits.MaxBody), nil)
		}
		return nil, newError(KindBadRequest, "the request body could not be read", err)
	}
	if n > d.limits.MaxBody {
		return nil, newError(KindTooLarge, fmt.Sprintf("the body exceeds %d bytes", d.limits.MaxBody), nil)
	}
	plain := raw.Bytes()
	if gzipped {
		out := d.bufs.Get().(*bytes.Buffer)
		defer d.putBuf(out)
		out.Reset()
		if err := d.gunzip(out, plain); err != nil {
			return nil, err
		}
		plain = out.Bytes()
	}
	sum := sha256.Sum256(plain)
	p, err := d.decodePayload(plain)
	if err != nil {
		return nil, classify(plain, err)
	}
	if err := checkScore(p); err != nil {
		return nil, err
	}
	return &Decoded{Payload: p, BodySHA256: sum}, nil
}

// decodePayload decodes and validates a payload: the canonical fast path when the body is
// in canonical form and validates, report.DecodePayload (the reference, and the source of
// every error message) otherwise.
func (d *Decoder) decodePayload(plain []byte) (*report.Payload, error) {
	if p, ok := decodeCanonical(plain, d.intern); ok && p.Validate(d.cat) == nil {
		return p, nil
	}
	return report.DecodePayload(bytes.NewReader(plain), d.cat)
}

func (d *Decoder) putBuf(b *bytes.Buffer) {
	// Do not keep the occasional huge buffer alive.
	if b.Cap() <= 1<<20 {
		d.bufs.Put(b)
	}
}

func (d *Decoder) gunzip(out *bytes.Buffer, compressed []byte) error {
	src := bytes.NewReader(compressed)
	zr, _ := d.gzips.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(src)
	} else {
		err = zr.Reset(src)
	}
	if err != nil {
		return newError(KindInvalidPayload, "the body is not valid gzip", err)
	}
	defer d.gzips.Put(zr)
	n, err := out.ReadFrom(io.LimitReader(zr, d.limits.MaxDecompressed+1))
	if n > d.limits.MaxDecompressed {
		return newError(KindTooLarge, fmt.Sprintf("the body decompresses to more than %d bytes", d.limits.MaxDecompressed), nil)
	}
	if err != nil {
		return newError(KindInvalidPayload, "the body is not valid gzip", err)
	}
	return nil
}

// parseEncoding accepts gzip (or its alias x-gzip) and identity; anything else, including a
// list of several encodings, is unsupported.
func parseEncoding(ce string) (gzipped bool, err error) {
	switch strings.ToLower(strings.TrimSpace(ce)) {
	case "", "identity":
		return false, nil
	case "gzip", "x-gzip":
		return true, nil
	}
	return false, newError(KindUnsupportedEncoding, "Content-Encoding must be gzip or identity", nil)
}

// classify turns a DecodePayload error into an ingest error. A payload that fails only
// because of its schema_version is unsupported_schema; the probe runs on the error path only.
func classify(plain []byte, err error) *Error {
	var probe struct {
		SchemaVersion *json.Number `json:"schema_version"`
	}
	if json.Unmarshal(plain, &probe) == nil && probe.SchemaVersion != nil {
		if v, perr := probe.SchemaVersion.Int64(); perr != nil || v != report.SchemaVersion {
			return newError(KindUnsupportedSchema,
				fmt.Sprintf("schema_version %s is not supported; this server accepts %d", probe.SchemaVersion.String(), report.SchemaVersion), nil)
		}
	}
	return newError(KindInvalidPayload, "the payload is invalid", err)
}

// checkScore recomputes the score and grade from the results with pkg/score.
func checkScore(p *report.Payload) error {
	outcomes := make([]score.Outcome, 0, len(p.Results))
	for _, r := range p.Results {
		switch r.Status {
		case report.StatusPass:
			outcomes = append(outcomes, score.Outcome{Severity: r.Severity, Passed: true})
		case report.StatusFail:
			outcomes = append(outcomes, score.Outcome{Severity: r.Severity})
		}
	}
	s := score.Compute(outcomes)
	if s.Score != p.Score || s.Grade != p.Grade {
		return newError(KindInvalidPayload,
			fmt.Sprintf("score %d and grade %s do not match the results (%d, %s)", p.Score, p.Grade, s.Score, s.Grade), nil)
	}
	return nil
}
