package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/version"
	"github.com/securecodehq/server-audit/server/internal/api"
	"github.com/securecodehq/server-audit/server/internal/config"
	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/jobs"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// serveGCPercent is the garbage collector's target for serve unless GOGC is set. The live
// heap is a few tens of megabytes while each ingest allocates about 100 KB of short-lived
// decoding state, so collecting at 5× the live heap instead of 2× trades tens of megabytes
// for about a tenth more throughput (docs/benchmarks.md, "server-audit-api ingest").
const serveGCPercent = 400

func newServeCmd(e *env) *cobra.Command {
	var cfg config.Serve
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--tls-cert FILE --tls-key FILE]",
		Short: "Migrate the database, then serve the API and work report jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Common = e.common
			if _, _, err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			if e.getenv("GOGC") == "" {
				debug.SetGCPercent(serveGCPercent)
			}
			return Serve(cmd.Context(), cfg, e.logger(), nil)
		},
	}
	config.BindServe(cmd.Flags(), &cfg)
	return cmd
}

// Serve runs the API until ctx is cancelled, then shuts down gracefully: the HTTP server
// stops accepting and finishes in-flight requests, River finishes running jobs (soft stop,
// cancelled after the shutdown timeout), and the pool closes last. onListen, when set, gets
// the bound address once the listener is open.
func Serve(ctx context.Context, cfg config.Serve, logger *slog.Logger, onListen func(net.Addr)) error {
	proxies, public, err := cfg.Validate()
	if err != nil {
		return err
	}
	cat, err := catalog.Load()
	if err != nil {
		return fmt.Errorf("load catalog: %w", err)
	}
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL, store.PoolOptions{MaxConns: cfg.DBMaxConns})
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool, logger); err != nil {
		return err
	}
	st := store.New(pool)
	riverClient, err := jobs.NewClient(pool, st, cat, logger, jobs.Options{Workers: cfg.Workers})
	if err != nil {
		return err
	}
	a, err := api.New(api.Options{
		Store:   st,
		Ingest:  ingest.NewService(st, riverClient),
		Decoder: ingest.NewDecoder(cat, ingest.Limits{MaxBody: cfg.MaxBody, MaxDecompressed: cfg.MaxDecompressed}),
		Logger:  logger,
		Ready: func(ctx context.Context) error {
			return ready(ctx, pool)
		},
		TrustedProxies: proxies,
		PublicURL:      public,
		RequestTimeout: cfg.RequestTimeout,
		TokenRate:      api.RateLimit{PerSecond: cfg.TokenRate, Burst: cfg.TokenBurst},
		IPRate:         api.RateLimit{PerSecond: cfg.IPRate, Burst: cfg.IPBurst},
		HSTS:           cfg.TLSCert != "",
	})
	if err != nil {
		return err
	}
	srv, err := api.NewHTTPServer(a, api.ServerOptions{TLSCertFile: cfg.TLSCert, TLSKeyFile: cfg.TLSKey, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.Workers > 0 {
		// Not ctx: River would begin its own stop on the signal, before the HTTP server has
		// drained. The stop is ordered below.
		if err := riverClient.Start(context.WithoutCancel(ctx)); err != nil {
			ln.Close()
			return fmt.Errorf("start river: %w", err)
		}
	}
	logger.Info("serving", "addr", ln.Addr().String(), "tls", cfg.TLSCert != "", "workers", cfg.Workers,
		"version", version.Get().Version)
	if onListen != nil {
		onListen(ln.Addr())
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- api.Serve(srv, ln) }()

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(stopCtx); err != nil {
		logger.Warn("http shutdown", "error", err.Error())
	}
	if runErr == nil {
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serve: %w", err)
		}
	}
	if cfg.Workers > 0 {
		if err := riverClient.Stop(stopCtx); err != nil {
			logger.Warn("river stop", "error", err.Error())
		}
	}
	logger.Info("stopped")
	return runErr
}

// ready is the readiness check: the database answers and the schema is current.
func ready(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return store.CheckSchema(ctx, pool)
}
