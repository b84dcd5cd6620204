package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_lock key that serialises migrations: every
// `server-audit-api migrate` and every `serve` start takes it before touching the schema.
const migrationLockKey int64 = 0x5356_4155_4449_5431 // "SVAUDIT1"

// Migration is one embedded application migration.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded application migrations in version order. File names are
// NNNN_name.sql; each file runs in one transaction.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("read migrations: bad file name %q", e.Name())
		}
		data, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(data)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("read migrations: versions must be 1..n without gaps, found %d at position %d", m.Version, i+1)
		}
	}
	return out, nil
}

// MigrateResult says what Migrate applied.
type MigrateResult struct {
	// App lists the application migration versions applied by this call.
	App []int
	// River lists River's migration versions applied by this call.
	River []int
}

// Migrate brings the database up to date: River's schema (rivermigrate, line main) and the
// application's embedded migrations. It holds a session-level advisory lock for the whole
// run, so concurrent callers (several replicas starting at once) apply each migration once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (MigrateResult, error) {
	var res MigrateResult
	migrations, err := Migrations()
	if err != nil {
		return res, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return res, fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		// Unlock on a fresh context: ctx may be cancelled, and a lock left behind on a pooled
		// connection would block the next migration until the connection closes.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, "SELECT pg_advisory_unlock($1)", migrationLockKey); err != nil {
			_ = conn.Conn().Close(unlockCtx) // closing the connection drops the lock
		}
	}()

	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return res, fmt.Errorf("migrate river: %w", err)
	}
	rr, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return res, fmt.Errorf("migrate river: %w", err)
	}
	for _, v := range rr.Versions {
		res.River = append(res.River, v.Version)
	}

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return res, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	current, err := appVersion(ctx, conn.Conn())
	if err != nil {
		return res, err
	}
	if current > len(migrations) {
		return res, fmt.Errorf("migrate: the database is at version %d, newer than this binary's %d", current, len(migrations))
	}
	for _, m := range migrations[current:] {
		err := pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("migrate: apply %04d_%s: %w", m.Version, m.Name, err)
		}
		logger.InfoContext(ctx, "applied migration", "version", m.Version, "name", m.Name)
		res.App = append(res.App, m.Version)
	}
	return res, nil
}

func appVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	if err := q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// ErrSchemaNotCurrent is returned by CheckSchema when migrations are pending.
var ErrSchemaNotCurrent = errors.New("database schema is not current")

// CheckSchema reports whether the database answers and both the application's and River's
// migrations are all applied. It is what /readyz runs.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	migrations, err := Migrations()
	if err != nil {
		return err
	}
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if !exists {
		return fmt.Errorf("%w: no application migrations applied", ErrSchemaNotCurrent)
	}
	v, err := appVersion(ctx, pool)
	if err != nil {
		return err
	}
	if v != len(migrations) {
		return fmt.Errorf("%w: application schema at version %d, want %d", ErrSchemaNotCurrent, v, len(migrations))
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("check river schema: %w", err)
	}
	vr, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check river schema: %w", err)
	}
	if !vr.OK {
		return fmt.Errorf("%w: river: %s", ErrSchemaNotCurrent, strings.Join(vr.Messages, "; "))
	}
	return nil
}
