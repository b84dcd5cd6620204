package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Item is a payload to deliver: its audit id and its exact JSON bytes.
type Item struct {
	AuditID string
	Payload []byte
}

// Delivered is one payload the server now has.
type Delivered struct {
	Accepted  *Accepted
	FromSpool bool
}

// Outcome is the result of Deliver.
type Outcome struct {
	// Delivered lists the payloads the server has now, in the order they were sent.
	Delivered []Delivered
	// Current is the server's answer for the current payload, nil when it was not delivered.
	Current *Accepted
	// SpooledPath is where the current payload was spooled, empty when it was not.
	SpooledPath string
	// Dropped lists spooled audits removed without delivery: corrupt, or refused for good
	// (400, 413, 415, 422).
	Dropped []string
	// Failure is what stopped the upload, nil when everything was delivered.
	Failure *Error
	// Remaining is the number of payloads left in the spool.
	Remaining int
}

// Deliver sends the spooled payloads, oldest first, then current (nil: only the spool).
//
//   - A spooled payload is removed once the server has it (2xx, including the duplicate
//     answer), and also when it is unreadable, fails validation, or is refused for good
//     (400, 413, 415, 422): it could never be delivered.
//   - A temporary failure (transport, deadline, 5xx, 429 after the retries, certificate)
//     stops the upload: the remaining spool stays, and current is spooled untried (the
//     order is kept).
//   - 401/403 stops the upload: the spool stays (the operator may replace the token; the
//     age bound ends it otherwise) and current is not spooled — the same token would be
//     refused again.
//   - current refused for good is not spooled.
//
// ctx carries the deadline of the whole upload. The error is non-nil only when the spool
// itself fails (the current payload could not be written); the upload's own failure is in
// Outcome.Failure.
func Deliver(ctx context.Context, c *Client, sp *Spool, cat *catalog.Catalog, current *Item, log *slog.Logger) (*Outcome, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := &Outcome{}
	if _, err := sp.Prune(); err != nil {
		log.Warn("cannot prune the spool", "error", err)
	}
	entries, err := sp.List()
	if err != nil {
		log.Warn("cannot read the spool; sending the current audit only", "error", err)
	}
	for _, e := range entries {
		if out.Failure != nil {
			break
		}
		data, err := sp.Read(e)
		if err == nil {
			var p *report.Payload
			p, err = report.DecodePayload(bytes.NewReader(data), cat)
			if err == nil && p.AuditID != e.AuditID {
				err = errors.New("its audit_id differs from its file name")
			}
		}
		if err != nil {
			log.Warn("dropped a corrupt spooled audit", "audit_id", e.AuditID, "error", err)
			out.Dropped = append(out.Dropped, e.AuditID)
			if rerr := sp.Remove(e); rerr != nil {
				log.Warn("cannot remove spooled audit", "audit_id", e.AuditID, "error", rerr)
			}
			continue
		}
		acc, err := c.Send(ctx, e.AuditID, data)
		var ue *Error
		switch {
		case err == nil:
			out.Delivered = append(out.Delivered, Delivered{Accepted: acc, FromSpool: true})
			if rerr := sp.Remove(e); rerr != nil {
				log.Warn("delivered, but cannot remove it from the spool; the server will recognise it next time", "audit_id", e.AuditID, "error", rerr)
			}
		case errors.As(err, &ue) && ue.Kind == Rejected:
			log.Warn("the server refused a spooled audit for good; dropped", "audit_id", e.AuditID, "reason", ue.Error())
			out.Dropped = append(out.Dropped, e.AuditID)
			if rerr := sp.Remove(e); rerr != nil {
				log.Warn("cannot remove spooled audit", "audit_id", e.AuditID, "error", rerr)
			}
		case errors.As(err, &ue):
			out.Failure = ue
		default:
			out.Failure = &Error{Kind: Temporary, Detail: err.Error(), Err: err}
		}
	}
	if current != nil {
		if out.Failure == nil {
			acc, err := c.Send(ctx, current.AuditID, current.Payload)
			var ue *Error
			switch {
			case err == nil:
				out.Current = acc
				out.Delivered = append(out.Delivered, Delivered{Accepted: acc})
			case errors.As(err, &ue):
				out.Failure = ue
			default:
				out.Failure = &Error{Kind: Temporary, Detail: err.Error(), Err: err}
			}
		}
		if out.Current == nil && out.Failure.Kind == Temporary {
			path, err := sp.Add(current.AuditID, current.Payload)
			if err != nil {
				out.Remaining = countSpool(sp)
				return out, fmt.Errorf("spool the audit: %w", err)
			}
			out.SpooledPath = path
		}
	}
	out.Remaining = countSpool(sp)
	return out, nil
}

func countSpool(sp *Spool) int {
	entries, _ := sp.List()
	return len(entries)
}
