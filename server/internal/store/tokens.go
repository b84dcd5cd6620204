package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TokenPrefix starts every token, so secret scanners and people can recognise one.
const TokenPrefix = "sat_"

// tokenSecretBytes is the entropy of a token: 32 random bytes, 43 characters of base64url.
const tokenSecretBytes = 32

// NewTokenSecret returns a fresh random token: "sat_" and 43 characters of unpadded
// base64url (256 bits).
func NewTokenSecret() (string, error) {
	b := make([]byte, tokenSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the SHA-256 of a token string, the only form the database keeps. A plain
// hash suffices: the secret has 256 bits of entropy, so it cannot be guessed from its hash.
func HashToken(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// WellFormedToken reports whether s has the shape of a token (prefix, length, alphabet),
// which lets the server refuse garbage without a database round trip.
func WellFormedToken(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(tokenSecretBytes) {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Token is a stored token, without its secret.
type Token struct {
	ID        int64
	AccountID int64
	Email     string
	// BoundIP is the address the token may ingest from; invalid (zero) until bound.
	BoundIP    netip.Addr
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// NormalizeEmail trims and validates an account e-mail address. It checks the shape only
// (one @, no spaces or controls, at most 254 bytes); delivery is not the server's business.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(email) > 254 {
		return "", fmt.Errorf("invalid e-mail address %q", email)
	}
	for _, r := range email {
		if r <= ' ' || r == 0x7f {
			return "", fmt.Errorf("invalid e-mail address %q", email)
		}
	}
	return email, nil
}

// CreateToken creates a token for the account of email (creating the account if needed),
// bound to ip when ip is valid. It returns the secret, which is not stored and cannot be
// shown again.
func (s *Store) CreateToken(ctx context.Context, email string, ip netip.Addr) (string, Token, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", Token{}, err
	}
	secret, err := NewTokenSecret()
	if err != nil {
		return "", Token{}, err
	}
	hash := HashToken(secret)
	var bound *netip.Addr
	if ip.IsValid() {
		ip = ip.Unmap()
		bound = &ip
	}
	tok := Token{Email: email, BoundIP: ip}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The no-op update makes RETURNING yield the existing account's id too.
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (email) VALUES ($1)
			ON CONFLICT (lower(email)) DO UPDATE SET email = accounts.email
			RETURNING id, email`, email).Scan(&tok.AccountID, &tok.Email); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO tokens (account_id, secret_sha256, bound_ip)
			VALUES ($1, $2, $3) RETURNING id, created_at`, tok.AccountID, hash[:], bound).
			Scan(&tok.ID, &tok.CreatedAt)
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	return secret, tok, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.account_id, a.email, t.bound_ip, t.created_at,
			t.last_used_at, t.revoked_at
		FROM tokens t JOIN accounts a ON a.id = t.account_id ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Token, error) {
		var t Token
		var bound *netip.Prefix
		err := row.Scan(&t.ID, &t.AccountID, &t.Email, &bound, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt)
		if bound != nil {
			t.BoundIP = bound.Addr()
		}
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token. Revoking a revoked token is not an error; an unknown id is
// ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke token %d: %w", id, ErrNotFound)
	}
	return nil
}

// Principal is the authenticated identity behind a request's token.
type Principal struct {
	TokenID   int64
	AccountID int64
	// BoundIP is invalid (zero) while the token is unbound.
	BoundIP netip.Addr
	Revoked bool
}

// LookupToken finds the token whose secret is secret. An unknown token is ErrNotFound; a
// revoked one is returned with Revoked set.
func (s *Store) LookupToken(ctx context.Context, secret string) (Principal, error) {
	return s.LookupTokenHash(ctx, HashToken(secret))
}

// LookupTokenHash is LookupToken by the token's SHA-256.
func (s *Store) LookupTokenHash(ctx context.Context, hash [32]byte) (Principal, error) {
	var p Principal
	var bound *netip.Prefix
	err := s.pool.QueryRow(ctx, `SELECT id, account_id, bound_ip, revoked_at IS NOT NULL
		FROM tokens WHERE secret_sha256 = $1`, hash[:]).Scan(&p.TokenID, &p.AccountID, &bound, &p.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrNotFound
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up token: %w", err)
	}
	if bound != nil {
		p.BoundIP = bound.Addr()
	}
	return p, nil
}

// ErrTokenInactive is returned when a token was revoked or deleted after it authenticated
// the request.
var ErrTokenInactive = errors.New("token revoked or deleted")

// BindTokenIP binds an unbound token to ip inside tx and returns the address the token is
// bound to afterwards: ip when this call bound it, or the address another ingest bound it
// to first. The conditional UPDATE makes the first binding win: a concurrent binder waits for
// the row lock, then finds bound_ip set and changes nothing. A revoked or deleted token is
// ErrTokenInactive and is never bound.
func BindTokenIP(ctx context.Context, tx pgx.Tx, tokenID int64, ip netip.Addr) (netip.Addr, error) {
	ip = ip.Unmap()
	tag, err := tx.Exec(ctx, `UPDATE tokens SET bound_ip = $2 WHERE id = $1 AND bound_ip IS NULL AND revoked_at IS NULL`, tokenID, ip)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bind token: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return ip, nil
	}
	var bound *netip.Prefix
	var revoked bool
	err = tx.QueryRow(ctx, `SELECT bound_ip, revoked_at IS NOT NULL FROM tokens WHERE id = $1`, tokenID).Scan(&bound, &revoked)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && (revoked || bound == nil) {
		return netip.Addr{}, ErrTokenInactive
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bind token: %w", err)
	}
	return bound.Addr(), nil
}
