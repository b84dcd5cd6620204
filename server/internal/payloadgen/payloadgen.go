// Package payloadgen builds valid upload payloads from the real catalog: real check IDs,
// statuses, severities and facts that fit each check's declared schema. The load generator
// and the server tests use it; it never touches a host.
package payloadgen

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
)

// Options shapes a payload.
type Options struct {
	// Results is how many checks to include, from the sorted catalog IDs; 0 or more than the
	// catalog holds means every check. (A payload cannot hold a check twice.)
	Results int
	// Fail says which checks fail; nil fails every fourth check.
	Fail func(checkID string) bool
	// StartedAt defaults to the current second.
	StartedAt time.Time
}

// Payload returns a valid payload with audit id auditID (a new UUIDv7 when empty).
func Payload(cat *catalog.Catalog, auditID string, opts Options) (*report.Payload, error) {
	started := opts.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	started = started.UTC().Truncate(time.Second)
	if auditID == "" {
		var err error
		if auditID, err = report.NewAuditID(started); err != nil {
			return nil, err
		}
	}
	ids := cat.IDs()
	if opts.Results > 0 && opts.Results < len(ids) {
		ids = ids[:opts.Results]
	}
	fail := opts.Fail
	if fail == nil {
		fail = func(id string) bool { return slices.Index(ids, id)%4 == 3 }
	}
	p := &report.Payload{
		SchemaVersion: report.SchemaVersion,
		AuditID:       auditID,
		AgentVersion:  "1.0.0",
		StartedAt:     started.Format(time.RFC3339),
		DurationMS:    57,
		Host:          report.PayloadHost{OS: "linux", Arch: "amd64", Distro: "debian", DistroVersion: "12", Kernel: "6.1.0-18-amd64", Live: true},
	}
	outcomes := make([]score.Outcome, 0, len(ids))
	for _, id := range ids {
		entry, _ := cat.Lookup(id)
		r := report.PayloadResult{ID: id, Status: report.StatusPass, Severity: entry.Severity, Facts: map[string]any{}}
		if fail(id) {
			r.Status = report.StatusFail
		}
		outcomes = append(outcomes, score.Outcome{Severity: r.Severity, Passed: r.Status == report.StatusPass})
		for key, schema := range entry.Facts {
			r.Facts[key] = FactValue(schema)
		}
		if len(r.Facts) == 0 {
			r.Facts = nil
		}
		p.Results = append(p.Results, r)
	}
	s := score.Compute(outcomes)
	p.Score, p.Grade = s.Score, s.Grade
	if err := p.Validate(cat); err != nil {
		return nil, fmt.Errorf("payloadgen: generated payload does not validate: %w", err)
	}
	return p, nil
}

// FactValue returns a value that fits schema.
func FactValue(schema catalog.FactSchema) any {
	one := func() any {
		switch schema.Type {
		case catalog.FactBool:
			return true
		case catalog.FactInt:
			return *schema.Min
		case catalog.FactEnum:
			return schema.Values[0]
		case catalog.FactVersion:
			return "1.2.3"
		case catalog.FactPort:
			return int64(22)
		case catalog.FactObject:
			return "0123456789abcdef0123456789abcdef"
		}
		return nil
	}
	if !schema.List {
		return one()
	}
	switch schema.Type {
	case catalog.FactInt, catalog.FactPort:
		return []int64{one().(int64)}
	}
	return []string{one().(string)}
}

// Encode returns the payload's JSON (the exact bytes an agent sends) and their gzip form.
func Encode(p *report.Payload) (plain, gz []byte, err error) {
	plain, err = p.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return plain, Gzip(plain), nil
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
