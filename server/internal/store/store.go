// Package store is the server's PostgreSQL layer: the pgx connection pool, the embedded
// migrations (the application's own and River's, applied under one advisory lock) and every
// query the other server packages run.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a looked-up row does not exist (or belongs to another account).
var ErrNotFound = errors.New("not found")

// PoolOptions tunes the connection pool beyond what the database URL says.
type PoolOptions struct {
	// MaxConns overrides pool_max_conns when positive.
	MaxConns int32
	// MinConns overrides pool_min_conns when positive.
	MinConns int32
}

// OpenPool connects a pgx pool to databaseURL and checks that the database answers.
func OpenPool(ctx context.Context, databaseURL string, opts PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parse error can quote the URL, password included: do not wrap it.
		return nil, errors.New("open database: the database URL does not parse")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	cfg.MaxConnLifetimeJitter = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return pool, nil
}

// Store runs the server's queries on a pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
