// Package scan runs a selection of checks against a host: concurrently, each under its own
// deadline, turning panics, invalid results and timeouts into error results so that one bad
// check never stops the audit.
package scan

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Defaults of Options.
const (
	DefaultCheckTimeout = 20 * time.Second
	DefaultConcurrency  = 16
)

// Options configures Run.
type Options struct {
	// CheckTimeout bounds each check (default DefaultCheckTimeout); the context passed to Run
	// bounds the whole audit.
	CheckTimeout time.Duration
	// Concurrency is the number of checks run at once (default DefaultConcurrency).
	Concurrency int
	// Suppressed maps check IDs to their suppression; those checks are not run.
	Suppressed map[string]report.Suppression
	// Logger receives per-check debug lines; nil discards them.
	Logger *slog.Logger
}

// Run evaluates list against h and returns one result per check, in list order. Every check
// must have a catalog entry (the catalog test guarantees it). Run returns when every check
// has finished or hit its deadline.
func Run(ctx context.Context, h host.Host, cat *catalog.Catalog, list []checks.Check, opts Options) []report.Result {
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = DefaultCheckTimeout
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	results := make([]report.Result, len(list))
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, c := range list {
		entry, ok := cat.Lookup(c.ID())
		if !ok {
			// A check without a catalog entry has no severity, title or fact schema: it is
			// not run, and its result keeps its ID so the bug is visible in the report.
			entry = catalog.Entry{ID: c.ID(), Title: c.ID(), Severity: catalog.SeverityInfo}
			results[i] = newResult(entry, checks.Error(report.ReasonInternal, "check %q has no catalog entry", c.ID()), 0)
			continue
		}
		if sup, ok := opts.Suppressed[c.ID()]; ok {
			results[i] = newResult(entry, checks.Skip(report.ReasonSuppressed, "suppressed: %s", sup.Reason), 0)
			results[i].Suppression = &sup
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			res := runOne(ctx, h, c, opts.CheckTimeout)
			elapsed := time.Since(start)
			results[i] = newResult(entry, validate(entry, res), elapsed)
			logger.Debug("check finished", "id", c.ID(), "status", res.Status, "reason", res.Reason, "duration", elapsed)
		}()
	}
	wg.Wait()
	return results
}

// runOne runs a check in its own goroutine so that a check that ignores its context is
// abandoned at the deadline rather than waited for.
func runOne(ctx context.Context, h host.Host, c checks.Check, timeout time.Duration) checks.Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan checks.Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- checks.Error(report.ReasonPanic, "check panicked: %v", p).Detail("%s", debug.Stack())
			}
		}()
		res, err := c.Run(ctx, h)
		if err != nil {
			res = checks.FromError("evaluate", err)
		}
		done <- res
	}()
	select {
	case res := <-done:
		return res
	case <-ctx.Done():
		return checks.Error(report.ReasonTimeout, "check did not finish: %v", ctx.Err())
	}
}

// validate turns a malformed result into an error result.
func validate(entry catalog.Entry, res checks.Result) checks.Result {
	bad := func(format string, args ...any) checks.Result {
		return checks.Error(report.ReasonInternal, "invalid result from check: %s", fmt.Sprintf(format, args...))
	}
	if !res.Status.Valid() {
		return bad("unknown status %q", res.Status)
	}
	switch res.Status {
	case report.StatusSkip, report.StatusError:
		if !res.Reason.Valid() || res.Reason == report.ReasonSuppressed {
			return bad("status %s needs a reason code, got %q", res.Status, res.Reason)
		}
	default:
		if res.Reason != "" {
			return bad("status %s takes no reason", res.Status)
		}
	}
	if res.Severity != "" && (!res.Severity.Valid() || res.Severity.Rank() > entry.Severity.Rank()) {
		return bad("severity %q is not at or below the catalog's %s", res.Severity, entry.Severity)
	}
	return res
}

func newResult(entry catalog.Entry, res checks.Result, elapsed time.Duration) report.Result {
	sev := entry.Severity
	if res.Severity != "" {
		sev = res.Severity
	}
	out := report.Result{
		ID:         entry.ID,
		Family:     entry.Family(),
		Title:      entry.Title,
		Severity:   sev,
		Status:     res.Status,
		Reason:     res.Reason,
		Message:    res.Message,
		Details:    res.Details,
		Facts:      res.Facts,
		DurationMS: float64(elapsed.Microseconds()) / 1000,
	}
	if res.Status == report.StatusFail {
		out.Remediation = entry.Remediation
	}
	return out
}
