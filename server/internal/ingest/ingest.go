package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/securecodehq/server-audit/server/internal/jobs"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// JobInserter inserts a River job inside a transaction; *river.Client[pgx.Tx] is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Service stores decoded payloads.
type Service struct {
	st   *store.Store
	jobs JobInserter
	// afterResults, when set (tests only), runs inside the transaction after the results
	// are written and before the job is inserted; an error aborts the transaction.
	afterResults func(ctx context.Context) error
}

// NewService returns a Service storing through st and enqueueing through jobs.
func NewService(st *store.Store, jobs JobInserter) *Service {
	return &Service{st: st, jobs: jobs}
}

// Request is one authenticated, decoded upload.
type Request struct {
	Principal store.Principal
	// ClientIP is the client address (the TCP peer, or the X-Forwarded-For hop a trusted
	// proxy vouches for).
	ClientIP netip.Addr
	Decoded  *Decoded
}

// Outcome is the result of a successful ingest.
type Outcome struct {
	AuditID string
	// Replayed is true when the audit already existed with the same body and nothing was
	// stored by this request.
	Replayed bool
}

// Ingest stores the request in one transaction: the token's IP binding (first ingest of an
// unbound token), the server, the audit, its results and the generate_report job. Either all
// of them are committed or none is, so the job exists exactly when the audit does. The
// transaction also checks that the token is still valid (KindUnauthorized otherwise), so a
// revocation takes effect at once whatever the caller cached.
//
// Idempotency: the audit id is the key. When it already exists (or a concurrent request with
// the same id commits first) the transaction is rolled back and the request is answered from
// the stored audit: the same account and body hash replay the original answer, anything else
// is KindIdempotencyConflict.
func (s *Service) Ingest(ctx context.Context, req Request) (Outcome, error) {
	p := req.Decoded.Payload
	out := Outcome{AuditID: p.AuditID}
	err := pgx.BeginFunc(ctx, s.st.Pool(), func(tx pgx.Tx) error {
		if !req.Principal.BoundIP.IsValid() {
			bound, err := store.BindTokenIP(ctx, tx, req.Principal.TokenID, req.ClientIP)
			if errors.Is(err, store.ErrTokenInactive) {
				return newError(KindUnauthorized, "the token is revoked", nil)
			}
			if err != nil {
				return err
			}
			if bound != req.ClientIP.Unmap() {
				return newError(KindIPMismatch, "this token is bound to another address", nil)
			}
		}
		inserted, err := store.InsertAudit(ctx, tx, &store.NewAudit{
			AccountID:  req.Principal.AccountID,
			TokenID:    req.Principal.TokenID,
			ServerIP:   req.ClientIP,
			Payload:    p,
			BodySHA256: req.Decoded.BodySHA256,
		})
		if err != nil {
			return err
		}
		if !inserted {
			active, err := store.TokenActive(ctx, tx, req.Principal.TokenID)
			if err != nil {
				return err
			}
			if !active {
				return newError(KindUnauthorized, "the token is revoked", nil)
			}
			// Roll back and answer from the stored audit.
			return errDuplicate
		}
		if _, err := store.CopyResults(ctx, tx, p); err != nil {
			return err
		}
		if s.afterResults != nil {
			if err := s.afterResults(ctx); err != nil {
				return err
			}
		}
		if _, err := s.jobs.InsertTx(ctx, tx, jobs.GenerateReportArgs{AuditID: p.AuditID}, nil); err != nil {
			return fmt.Errorf("insert generate_report job: %w", err)
		}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		return s.replay(ctx, req)
	}
	if err != nil {
		var ie *Error
		if errors.As(err, &ie) {
			return Outcome{}, ie
		}
		return Outcome{}, fmt.Errorf("ingest audit %s: %w", p.AuditID, err)
	}
	return out, nil
}

// errDuplicate rolls back the transaction of an audit id that already exists.
var errDuplicate = errors.New("audit already exists")

func (s *Service) replay(ctx context.Context, req Request) (Outcome, error) {
	id := req.Decoded.Payload.AuditID
	stored, err := s.st.LookupAudit(ctx, id)
	if err != nil {
		return Outcome{}, fmt.Errorf("ingest audit %s: replay: %w", id, err)
	}
	if stored.AccountID != req.Principal.AccountID || stored.BodySHA256 != req.Decoded.BodySHA256 {
		return Outcome{}, newError(KindIdempotencyConflict,
			"an audit with this id was already received with a different body", nil)
	}
	return Outcome{AuditID: id, Replayed: true}, nil
}
