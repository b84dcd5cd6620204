// Package jobs defines the server's River job kinds and their workers. There is one:
// generate_report, inserted by the ingest transaction with the audit it reports on.
package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/reportgen"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// Retry policy of generate_report: at most MaxAttempts runs, the n-th retry after about
// 5 s × 2^(n-1) with ±20 % jitter, never later than MaxRetryDelay. Five attempts span about
// a minute and a quarter, not River's default of three weeks.
const (
	MaxAttempts   = 5
	BaseDelay     = 5 * time.Second
	MaxRetryDelay = 3 * time.Minute
	// FetchCooldown is the shortest pause between two fetches of available jobs.
	FetchCooldown = 10 * time.Millisecond
	// JobTimeout bounds one attempt.
	JobTimeout = 30 * time.Second
)

// GenerateReportArgs are the arguments of a generate_report job: the audit id only, so no
// audit data lives in the job table.
type GenerateReportArgs struct {
	AuditID string `json:"audit_id"`
}

// Kind is the job kind, stable across releases.
func (GenerateReportArgs) Kind() string { return "generate_report" }

// InsertOpts sets the bounded attempt count for every generate_report job.
func (GenerateReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MaxAttempts, Queue: river.QueueDefault}
}

// BuildFunc builds a report; reportgen.Build in production.
type BuildFunc func(in reportgen.Input, cat *catalog.Catalog) (reportgen.Output, error)

// GenerateReportWorker loads an audit, its results and the previous audit of the same
// server, builds the report and stores it. Failures are recorded in the reports row: pending
// with the error while retries remain, failed after the last attempt.
type GenerateReportWorker struct {
	river.WorkerDefaults[GenerateReportArgs]

	Store   *store.Store
	Catalog *catalog.Catalog
	Build   BuildFunc
	Logger  *slog.Logger
}

// NextRetry is exponential with jitter, capped at MaxRetryDelay.
func (w *GenerateReportWorker) NextRetry(job *river.Job[GenerateReportArgs]) time.Time {
	return time.Now().Add(RetryDelay(job.Attempt))
}

// RetryDelay returns the delay before the retry that follows attempt (1-based).
func RetryDelay(attempt int) time.Duration {
	d := BaseDelay << min(max(attempt-1, 0), 16)
	jitter := 0.8 + 0.4*rand.Float64()
	d = time.Duration(float64(d) * jitter)
	return min(d, MaxRetryDelay)
}

// Timeout bounds one attempt.
func (w *GenerateReportWorker) Timeout(*river.Job[GenerateReportArgs]) time.Duration {
	return JobTimeout
}

// Work runs one attempt.
func (w *GenerateReportWorker) Work(ctx context.Context, job *river.Job[GenerateReportArgs]) error {
	auditID := job.Args.AuditID
	in, err := LoadInput(ctx, w.Store, w.Catalog, auditID)
	if errors.Is(err, store.ErrNotFound) {
		// The audit was deleted (account removal): nothing to report, do not retry.
		return river.JobCancel(fmt.Errorf("generate report: audit %s no longer exists", auditID))
	}
	if err == nil {
		var out reportgen.Output
		if out, err = w.Build(in, w.Catalog); err == nil {
			var summary []byte
			if summary, err = json.Marshal(out.Summary); err == nil {
				err = w.Store.SaveReport(ctx, auditID, job.Attempt, out.Markdown, out.HTML, summary)
				if err == nil {
					w.Logger.InfoContext(ctx, "report generated", "audit_id", auditID, "attempt", job.Attempt)
					return nil
				}
			}
		}
	}
	final := job.Attempt >= job.MaxAttempts
	w.Logger.WarnContext(ctx, "report generation failed", "audit_id", auditID, "attempt", job.Attempt,
		"final", final, "error", err.Error())
	// Record on a context that survives the attempt's deadline, so a timeout is recorded too.
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if rerr := w.Store.RecordReportFailure(recordCtx, auditID, job.Attempt, final, err.Error()); rerr != nil {
		w.Logger.ErrorContext(ctx, "record report failure", "audit_id", auditID, "error", rerr.Error())
	}
	return fmt.Errorf("generate report for %s: %w", auditID, err)
}

// LoadInput reads what reportgen needs for auditID from the database.
func LoadInput(ctx context.Context, st *store.Store, cat *catalog.Catalog, auditID string) (reportgen.Input, error) {
	cur, prev, err := st.LoadAuditForReport(ctx, auditID)
	if err != nil {
		return reportgen.Input{}, err
	}
	in := reportgen.Input{
		AuditID:      cur.Audit.ID,
		ReceivedAt:   cur.Audit.ReceivedAt.UTC(),
		AgentVersion: cur.Audit.AgentVersion,
		Score:        cur.Audit.Score,
		Grade:        cur.Audit.Grade,
		Host: reportgen.Host{
			OS: cur.Audit.OS, Arch: cur.Audit.Arch, Distro: cur.Audit.Distro,
			DistroVersion: cur.Audit.DistroVer, Kernel: cur.Audit.Kernel, Live: cur.Audit.Live,
		},
	}
	if in.Results, err = convertResults(cat, cur.Results); err != nil {
		return reportgen.Input{}, err
	}
	if prev != nil {
		p := &reportgen.Previous{
			AuditID:    prev.Audit.ID,
			ReceivedAt: prev.Audit.ReceivedAt.UTC(),
			Score:      prev.Audit.Score,
			Grade:      prev.Audit.Grade,
		}
		if p.Results, err = convertResults(cat, prev.Results); err != nil {
			return reportgen.Input{}, err
		}
		in.Previous = p
	}
	return in, nil
}

// convertResults turns stored rows into reportgen results, facts in their wire normal form
// (bool, int64, string, []int64, []string) as the catalog declares them.
func convertResults(cat *catalog.Catalog, rows []store.ResultRow) ([]reportgen.Result, error) {
	out := make([]reportgen.Result, 0, len(rows))
	for _, r := range rows {
		res := reportgen.Result{
			CheckID:  r.CheckID,
			Status:   report.Status(r.Status),
			Severity: catalog.Severity(r.Severity),
			Reason:   report.Reason(r.Reason),
		}
		if len(r.Facts) > 0 {
			facts, err := decodeFacts(cat, r.CheckID, r.Facts)
			if err != nil {
				return nil, err
			}
			res.Facts = facts
		}
		out = append(out, res)
	}
	return out, nil
}

func decodeFacts(cat *catalog.Catalog, checkID string, raw []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode facts of %s: %w", checkID, err)
	}
	entry, known := cat.Lookup(checkID)
	for k, v := range m {
		if !known {
			continue
		}
		if schema, ok := entry.Facts[k]; ok {
			if norm, err := schema.ValidateWire(v); err == nil {
				m[k] = norm
			}
		}
	}
	return m, nil
}

// Options configures the River client.
type Options struct {
	// Workers is the number of concurrent generate_report workers; 0 makes an insert-only
	// client (the jobs are worked by another process).
	Workers int
	// Build defaults to reportgen.Build.
	Build BuildFunc
	// TestOnly removes River's start-up jitter (tests).
	TestOnly bool
	// FetchPollInterval overrides River's default when positive (tests).
	FetchPollInterval time.Duration
}

// NewClient returns the River client of the server on pool, with the generate_report worker
// registered and a bounded retry policy.
func NewClient(pool *pgxpool.Pool, st *store.Store, cat *catalog.Catalog, logger *slog.Logger, opts Options) (*river.Client[pgx.Tx], error) {
	build := opts.Build
	if build == nil {
		build = reportgen.Build
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &GenerateReportWorker{Store: st, Catalog: cat, Build: build, Logger: logger}); err != nil {
		return nil, fmt.Errorf("river workers: %w", err)
	}
	cfg := &river.Config{
		Logger:      logger,
		MaxAttempts: MaxAttempts,
		JobTimeout:  JobTimeout,
		Workers:     workers,
		TestOnly:    opts.TestOnly,
		// A stopping client waits this long for running jobs, then cancels them.
		SoftStopTimeout: 25 * time.Second,
		// With a backlog, River fetches again only after this pause, which bounds a
		// process at Workers jobs per cooldown: River's 100 ms default caps 4 workers at
		// 40 reports/s; 10 ms lifts that far above the ingest rate (docs/benchmarks.md).
		FetchCooldown: FetchCooldown,
	}
	if opts.FetchPollInterval > 0 {
		cfg.FetchPollInterval = opts.FetchPollInterval
		cfg.FetchCooldown = min(opts.FetchPollInterval, FetchCooldown)
	}
	if opts.Workers > 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.Workers}}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}
