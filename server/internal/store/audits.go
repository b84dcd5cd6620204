package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/securecodehq/server-audit/pkg/report"
)

// ParseUUID parses the canonical 8-4-4-4-12 hex form of a UUID.
func ParseUUID(s string) (pgtype.UUID, error) {
	var u pgtype.UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("parse uuid: %q is not in canonical form", s)
	}
	hexDigits := make([]byte, 0, 32)
	hexDigits = append(hexDigits, s[0:8]...)
	hexDigits = append(hexDigits, s[9:13]...)
	hexDigits = append(hexDigits, s[14:18]...)
	hexDigits = append(hexDigits, s[19:23]...)
	hexDigits = append(hexDigits, s[24:36]...)
	if _, err := hex.Decode(u.Bytes[:], hexDigits); err != nil {
		return u, fmt.Errorf("parse uuid: %q is not hexadecimal", s)
	}
	u.Valid = true
	return u, nil
}

// NewAudit is what the ingest transaction stores for one accepted payload.
type NewAudit struct {
	AccountID int64
	TokenID   int64
	// ServerIP is the client address the audit came from: with the account, it identifies
	// the server.
	ServerIP netip.Addr
	Payload  *report.Payload
	// BodySHA256 is the hash of the decompressed request body (idempotency fingerprint).
	BodySHA256 [32]byte
}

// insertAuditSQL upserts the server and inserts the audit in one statement (one round trip).
//
//   - The token must still be valid (not revoked, not deleted): revocation is enforced here,
//     inside the ingest transaction, so it takes effect at once even when the API answered
//     the authentication from its short-lived token cache.
//   - The server row is written only when it is new or its OS facts changed, so repeated
//     audits of an unchanged server take no row lock on it.
//   - The audit insert does nothing when the id exists: a concurrent insert of the same id
//     waits for the first transaction and then conflicts, so two audits with one id can
//     never both be stored.
//   - The token's last_used_at is touched at most once a minute.
const insertAuditSQL = `
WITH token AS (
	SELECT 1 FROM tokens WHERE id = $10 AND account_id = $1 AND revoked_at IS NULL
),
existing AS (
	SELECT id FROM servers
	WHERE account_id = $1 AND ip = $2 AND os = $3 AND arch = $4 AND distro = $5
	  AND distro_version = $6 AND kernel = $7 AND live = $8
	  AND EXISTS (SELECT 1 FROM token)
),
upserted AS (
	INSERT INTO servers (account_id, ip, os, arch, distro, distro_version, kernel, live)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8
	WHERE EXISTS (SELECT 1 FROM token) AND NOT EXISTS (SELECT 1 FROM existing)
	ON CONFLICT (account_id, ip) DO UPDATE SET os = EXCLUDED.os, arch = EXCLUDED.arch,
		distro = EXCLUDED.distro, distro_version = EXCLUDED.distro_version,
		kernel = EXCLUDED.kernel, live = EXCLUDED.live, updated_at = now()
	RETURNING id
),
server AS (
	SELECT id FROM existing UNION ALL SELECT id FROM upserted
),
touched AS (
	UPDATE tokens SET last_used_at = now()
	WHERE id = $10 AND revoked_at IS NULL
	  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
)
INSERT INTO audits (id, server_id, account_id, token_id, started_at, duration_ms,
	schema_version, agent_version, score, grade, dropped_facts,
	os, arch, distro, distro_version, kernel, live, body_sha256)
SELECT $9, server.id, $1, $10, $11, $12, $13, $14, $15, $16, $17,
	$3, $4, $5, $6, $7, $8, $18
FROM server
ON CONFLICT (id) DO NOTHING
RETURNING server_id`

// InsertAudit upserts the server and inserts the audit row inside tx. It returns false, and
// changes nothing, when an audit with the payload's id already exists or the token is no
// longer valid; the caller tells the two apart with TokenActive, then rolls back.
func InsertAudit(ctx context.Context, tx pgx.Tx, a *NewAudit) (bool, error) {
	p := a.Payload
	id, err := ParseUUID(p.AuditID)
	if err != nil {
		return false, fmt.Errorf("insert audit: %w", err)
	}
	started, err := time.Parse(time.RFC3339, p.StartedAt)
	if err != nil {
		return false, fmt.Errorf("insert audit: started_at: %w", err)
	}
	h := p.Host
	var serverID int64
	err = tx.QueryRow(ctx, insertAuditSQL,
		a.AccountID, a.ServerIP.Unmap(), h.OS, h.Arch, h.Distro, h.DistroVersion, h.Kernel, h.Live,
		id, a.TokenID, started, p.DurationMS, p.SchemaVersion, p.AgentVersion, p.Score, p.Grade,
		p.DroppedFacts, a.BodySHA256[:]).Scan(&serverID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert audit: %w", err)
	}
	return true, nil
}

// TokenActive reports, inside tx, whether the token exists and is not revoked.
func TokenActive(ctx context.Context, tx pgx.Tx, tokenID int64) (bool, error) {
	var active bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tokens WHERE id = $1 AND revoked_at IS NULL)`, tokenID).Scan(&active)
	if err != nil {
		return false, fmt.Errorf("check token: %w", err)
	}
	return active, nil
}

// copyResultsSQL is the COPY statement CopyResults streams its rows into.
const copyResultsSQL = `COPY results (audit_id, check_id, status, severity, reason, facts) FROM STDIN (FORMAT binary)`

// CopyResults writes the payload's results with one binary COPY inside tx. The COPY stream
// is encoded here rather than through pgx's per-value encoders: every column is a uuid, text
// or jsonb, whose binary forms are the raw bytes (jsonb: a version byte and the JSON text),
// and an upload carries about 120 rows, so this is the hottest loop of an ingest.
func CopyResults(ctx context.Context, tx pgx.Tx, p *report.Payload) (int64, error) {
	id, err := ParseUUID(p.AuditID)
	if err != nil {
		return 0, fmt.Errorf("copy results: %w", err)
	}
	buf := make([]byte, 0, 64+len(p.Results)*160)
	buf = append(buf, "PGCOPY\n\xff\r\n\x00"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // header extension length
	for i := range p.Results {
		r := &p.Results[i]
		buf = binary.BigEndian.AppendUint16(buf, 6)
		buf = appendField(buf, id.Bytes[:])
		buf = appendTextField(buf, r.ID)
		buf = appendTextField(buf, string(r.Status))
		buf = appendTextField(buf, string(r.Severity))
		if r.Reason == "" {
			buf = binary.BigEndian.AppendUint32(buf, 0xffffffff) // NULL
		} else {
			buf = appendTextField(buf, string(r.Reason))
		}
		if len(r.Facts) == 0 {
			buf = binary.BigEndian.AppendUint32(buf, 0xffffffff)
			continue
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0, 1) // length placeholder, jsonb version 1
		if buf, err = AppendFactsJSON(buf, r.Facts); err != nil {
			return 0, fmt.Errorf("copy results: facts of %s: %w", r.ID, err)
		}
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	buf = binary.BigEndian.AppendUint16(buf, 0xffff) // end of data
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), copyResultsSQL)
	if err != nil {
		return 0, fmt.Errorf("copy results: %w", err)
	}
	return tag.RowsAffected(), nil
}

func appendField(buf, b []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
	return append(buf, b...)
}

func appendTextField(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}

// StoredAudit is what an idempotent replay needs of an existing audit.
type StoredAudit struct {
	AccountID  int64
	BodySHA256 [32]byte
}

// LookupAudit returns the owner and body hash of an audit, or ErrNotFound.
func (s *Store) LookupAudit(ctx context.Context, auditID string) (StoredAudit, error) {
	id, err := ParseUUID(auditID)
	if err != nil {
		return StoredAudit{}, ErrNotFound
	}
	var a StoredAudit
	var hash []byte
	err = s.pool.QueryRow(ctx, `SELECT account_id, body_sha256 FROM audits WHERE id = $1`, id).Scan(&a.AccountID, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return StoredAudit{}, ErrNotFound
	}
	if err != nil {
		return StoredAudit{}, fmt.Errorf("look up audit: %w", err)
	}
	copy(a.BodySHA256[:], hash)
	return a, nil
}

// AuditRow is a stored audit as report generation reads it.
type AuditRow struct {
	ID           string
	ServerID     int64
	ReceivedAt   time.Time
	AgentVersion string
	Score        int
	Grade        string
	OS           string
	Arch         string
	Distro       string
	DistroVer    string
	Kernel       string
	Live         bool
}

// ResultRow is a stored result. Facts is the raw JSON object, nil when there are none.
type ResultRow struct {
	CheckID  string
	Status   string
	Severity string
	Reason   string
	Facts    []byte
}

// AuditWithResults is an audit and its results, in check-id order.
type AuditWithResults struct {
	Audit   AuditRow
	Results []ResultRow
}

const auditColumns = `a.id::text, a.server_id, a.received_at, a.agent_version, a.score, a.grade,
	a.os, a.arch, a.distro, a.distro_version, a.kernel, a.live`

func scanAudit(row pgx.Row) (AuditRow, error) {
	var a AuditRow
	err := row.Scan(&a.ID, &a.ServerID, &a.ReceivedAt, &a.AgentVersion, &a.Score, &a.Grade,
		&a.OS, &a.Arch, &a.Distro, &a.DistroVer, &a.Kernel, &a.Live)
	return a, err
}

// LoadAuditForReport loads an audit with its results and the previous audit of the same
// server (by received time, then id) with its results. previous is nil for a server's first
// audit. A missing audit is ErrNotFound.
func (s *Store) LoadAuditForReport(ctx context.Context, auditID string) (current AuditWithResults, previous *AuditWithResults, err error) {
	id, err := ParseUUID(auditID)
	if err != nil {
		return current, nil, fmt.Errorf("load audit: %w", ErrNotFound)
	}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		a, err := scanAudit(tx.QueryRow(ctx, `SELECT `+auditColumns+` FROM audits a WHERE a.id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		current.Audit = a
		if current.Results, err = loadResults(ctx, tx, id); err != nil {
			return err
		}
		prev, err := scanAudit(tx.QueryRow(ctx, `SELECT `+auditColumns+` FROM audits a
			WHERE a.server_id = $1 AND (a.received_at, a.id) < ($2, $3)
			ORDER BY a.received_at DESC, a.id DESC LIMIT 1`, a.ServerID, a.ReceivedAt, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		prevID, err := ParseUUID(prev.ID)
		if err != nil {
			return err
		}
		previous = &AuditWithResults{Audit: prev}
		previous.Results, err = loadResults(ctx, tx, prevID)
		return err
	})
	if err != nil {
		return AuditWithResults{}, nil, fmt.Errorf("load audit %s: %w", auditID, err)
	}
	return current, previous, nil
}

func loadResults(ctx context.Context, tx pgx.Tx, id pgtype.UUID) ([]ResultRow, error) {
	rows, err := tx.Query(ctx, `SELECT check_id, status, severity, coalesce(reason, ''), facts
		FROM results WHERE audit_id = $1 ORDER BY check_id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ResultRow, error) {
		var r ResultRow
		err := row.Scan(&r.CheckID, &r.Status, &r.Severity, &r.Reason, &r.Facts)
		return r, err
	})
}

// Report statuses.
const (
	ReportPending = "pending"
	ReportReady   = "ready"
	ReportFailed  = "failed"
)

// SaveReport stores a generated report as ready.
func (s *Store) SaveReport(ctx context.Context, auditID string, attempt int, markdown, html string, summary []byte) error {
	id, err := ParseUUID(auditID)
	if err != nil {
		return fmt.Errorf("save report: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO reports (audit_id, status, markdown, html, summary, generated_at, attempts, error)
		VALUES ($1, 'ready', $2, $3, $4, now(), $5, NULL)
		ON CONFLICT (audit_id) DO UPDATE SET status = 'ready', markdown = EXCLUDED.markdown,
			html = EXCLUDED.html, summary = EXCLUDED.summary, generated_at = EXCLUDED.generated_at,
			attempts = EXCLUDED.attempts, error = NULL, updated_at = now()`,
		id, markdown, html, summary, attempt)
	if err != nil {
		return fmt.Errorf("save report: %w", err)
	}
	return nil
}

// RecordReportFailure stores a failed generation attempt: the report stays pending while
// retries remain and becomes failed after the last one. It never overwrites a ready report.
func (s *Store) RecordReportFailure(ctx context.Context, auditID string, attempt int, final bool, message string) error {
	id, err := ParseUUID(auditID)
	if err != nil {
		return fmt.Errorf("record report failure: %w", err)
	}
	status := ReportPending
	if final {
		status = ReportFailed
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO reports (audit_id, status, attempts, error)
		SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM audits WHERE id = $1)
		ON CONFLICT (audit_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts,
			error = EXCLUDED.error, updated_at = now()
		WHERE reports.status <> 'ready'`, id, status, attempt, message)
	if err != nil {
		return fmt.Errorf("record report failure: %w", err)
	}
	return nil
}

// StoredReport is a report as the API serves it.
type StoredReport struct {
	AuditID     string
	Status      string
	Markdown    string
	HTML        string
	Summary     []byte
	GeneratedAt *time.Time
	Attempts    int
	Error       string
}

// GetReport returns the report of an audit of accountID. An audit of another account is
// ErrNotFound, exactly like a missing one. An audit whose job has not finished a first
// attempt has Status pending.
func (s *Store) GetReport(ctx context.Context, accountID int64, auditID string) (StoredReport, error) {
	id, err := ParseUUID(auditID)
	if err != nil {
		return StoredReport{}, ErrNotFound
	}
	r := StoredReport{AuditID: auditID}
	var status, markdown, html, errText *string
	var attempts *int
	err = s.pool.QueryRow(ctx, `SELECT r.status, r.markdown, r.html, r.summary, r.generated_at, r.attempts, r.error
		FROM audits a LEFT JOIN reports r ON r.audit_id = a.id
		WHERE a.id = $1 AND a.account_id = $2`, id, accountID).
		Scan(&status, &markdown, &html, &r.Summary, &r.GeneratedAt, &attempts, &errText)
	if errors.Is(err, pgx.ErrNoRows) {
		return StoredReport{}, ErrNotFound
	}
	if err != nil {
		return StoredReport{}, fmt.Errorf("get report: %w", err)
	}
	r.Status = ReportPending
	if status != nil {
		r.Status = *status
	}
	if markdown != nil {
		r.Markdown = *markdown
	}
	if html != nil {
		r.HTML = *html
	}
	if attempts != nil {
		r.Attempts = *attempts
	}
	if errText != nil {
		r.Error = *errText
	}
	return r, nil
}
