// Package checks defines the contract every check implements and the builders checks use
// to report what they found.
//
// A check reads the host through host.Host only, has no side effects, and returns a Result:
// a status, typed facts (the only host data that may leave the machine, each declared in
// pkg/catalog/catalog.yaml) and human-readable details (local only).
package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"syscall"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Check is one audit rule. Its title, severity, rationale and fix live in the catalog under
// the same ID.
type Check interface {
	// ID is "<family>.<slug>", stable and never reused.
	ID() string
	// Run evaluates the check. Returning an error means "could not evaluate": the scanner
	// records status error with a reason derived from the error.
	Run(ctx context.Context, h host.Host) (Result, error)
}

// Status is the outcome of a check (pass, fail, skip, error).
type Status = report.Status

// Reason is the code of a skip or an error.
type Reason = report.Reason

// Result is what a check found. Build it with Pass, Fail, Skip or Error and the chained
// fact and detail methods:
//
//	return checks.Fail("ASLR is off").Int("randomize_va_space", v).Detail("set in %s", p), nil
type Result struct {
	Status Status
	// Reason is required for skip and error.
	Reason Reason
	// Message is a one-line explanation for the local report.
	Message string
	// Severity, when set, lowers the catalog severity for this result (a legacy rather than
	// broken setting); it can never raise it.
	Severity catalog.Severity
	// Facts are the typed values; only keys declared in the catalog are sent.
	Facts report.Facts
	// Details are further lines for the local report; never sent.
	Details []string
}

// Pass returns a passing result.
func Pass(format string, args ...any) Result {
	return Result{Status: report.StatusPass, Message: fmt.Sprintf(format, args...)}
}

// Fail returns a failing result.
func Fail(format string, args ...any) Result {
	return Result{Status: report.StatusFail, Message: fmt.Sprintf(format, args...)}
}

// Skip returns a skipped result with a reason code.
func Skip(reason Reason, format string, args ...any) Result {
	return Result{Status: report.StatusSkip, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Error returns an errored result with a reason code.
func Error(reason Reason, format string, args ...any) Result {
	return Result{Status: report.StatusError, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// with returns r with one more fact. Results are values: the facts map is copied, so a
// result derived from a shared base never changes the base or its other derivations.
func (r Result) with(key string, v any) Result {
	facts := make(report.Facts, len(r.Facts)+1)
	maps.Copy(facts, r.Facts)
	facts[key] = v
	r.Facts = facts
	return r
}

// Bool adds a bool fact.
func (r Result) Bool(key string, v bool) Result { return r.with(key, v) }

// Int adds an int fact.
func (r Result) Int(key string, v int64) Result { return r.with(key, v) }

// Ints adds a list-of-int fact.
func (r Result) Ints(key string, v []int64) Result { return r.with(key, slices.Clone(v)) }

// Enum adds an enum fact; values not declared in the catalog are sent as "other".
func (r Result) Enum(key, v string) Result { return r.with(key, v) }

// Enums adds a list-of-enum fact.
func (r Result) Enums(key string, v []string) Result { return r.with(key, slices.Clone(v)) }

// Version adds a version fact.
func (r Result) Version(key, v string) Result { return r.with(key, v) }

// Port adds a port fact.
func (r Result) Port(key string, v int) Result { return r.with(key, int64(v)) }

// Object adds an object fact: the name stays local, the payload carries its keyed hash.
func (r Result) Object(key, name string) Result { return r.with(key, name) }

// Objects adds a list-of-object fact (containers, sites): the names stay local, the payload
// carries their keyed hashes.
func (r Result) Objects(key string, names []string) Result {
	if names == nil {
		names = []string{}
	}
	return r.with(key, slices.Clone(names))
}

// Detail appends a human-readable line for the local report.
func (r Result) Detail(format string, args ...any) Result {
	// Clip so that appending never writes into a base result's backing array.
	r.Details = append(slices.Clip(r.Details), fmt.Sprintf(format, args...))
	return r
}

// WithSeverity lowers the severity of this result (see Result.Severity).
func (r Result) WithSeverity(s catalog.Severity) Result {
	r.Severity = s
	return r
}

// FromError turns an error met while reading the host into a skip or error result:
// missing files and commands skip, permission problems skip with needs_root, everything
// else is an error with the matching reason. what names the thing being read.
func FromError(what string, err error) Result {
	reason, skip := Classify(err)
	msg := err.Error()
	// Errors from the host layer usually name the operation and file already
	// ("stat /etc/shadow: …", "procfs: …"); prefix what only when it adds something.
	if !strings.HasPrefix(msg, what) {
		msg = what + ": " + msg
	}
	if skip {
		return Skip(reason, "%s", msg)
	}
	return Error(reason, "%s", msg)
}

// Classify maps an error to a reason code and whether it means "skip" rather than "error".
func Classify(err error) (Reason, bool) {
	switch {
	case errors.Is(err, host.ErrNotLive):
		return report.ReasonNotLive, true
	case errors.Is(err, host.ErrCommandNotFound):
		return report.ReasonNotInstalled, true
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return report.ReasonNotFound, true
	case errors.Is(err, fs.ErrPermission):
		return report.ReasonNeedsRoot, true
	case errors.Is(err, host.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return report.ReasonTimeout, false
	case errors.Is(err, host.ErrTooLarge):
		return report.ReasonTooLarge, false
	case errors.Is(err, host.ErrSymlinkLoop), errors.Is(err, syscall.ELOOP):
		return report.ReasonSymlinkLoop, false
	case errors.Is(err, host.ErrEscapesRoot):
		return report.ReasonPathEscape, false
	case errors.Is(err, ErrParse):
		return report.ReasonParseError, false
	}
	return report.ReasonIOError, false
}

// ErrParse marks parse failures; wrap it so Classify reports parse_error:
//
//	fmt.Errorf("parse %s line %d: %w", path, n, checks.ErrParse)
var ErrParse = errors.New("malformed input")
