// Package report defines the local report of an audit and its wire payload.
//
// The local Report carries everything the user sees: messages, details with paths and names,
// remediation. Payload builds the upload from it and is the only way to do so: it copies IDs,
// statuses, severities, reason codes and facts that validate against the catalog, and nothing
// else. See Payload and Validate.
package report

import (
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/score"
)

// SchemaVersion is the version of the payload and local report formats.
const SchemaVersion = 1

// Status is the outcome of one check.
type Status string

// Statuses.
const (
	// StatusPass: the desired state holds.
	StatusPass Status = "pass"
	// StatusFail: the desired state does not hold.
	StatusFail Status = "fail"
	// StatusSkip: not applicable, prerequisite missing, or suppressed; Reason says which.
	StatusSkip Status = "skip"
	// StatusError: the check could not evaluate; Reason says why.
	StatusError Status = "error"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusPass, StatusFail, StatusSkip, StatusError:
		return true
	}
	return false
}

// Reason is a machine-readable code for a skip or an error. It is the only explanation that
// leaves the machine; the human-readable message stays local.
type Reason string

// Skip reasons.
const (
	// ReasonNotLive: the check needs the running system and the audit reads an offline root.
	ReasonNotLive Reason = "not_live"
	// ReasonNotInstalled: the software the check is about is not installed.
	ReasonNotInstalled Reason = "not_installed"
	// ReasonNotFound: a file the check reads does not exist.
	ReasonNotFound Reason = "not_found"
	// ReasonNeedsRoot: the data is readable only by root.
	ReasonNeedsRoot Reason = "needs_root"
	// ReasonNotApplicable: the check does not apply to this host's role.
	ReasonNotApplicable Reason = "not_applicable"
	// ReasonNotSupported: the kernel or platform lacks the feature the check reads.
	ReasonNotSupported Reason = "not_supported"
	// ReasonSuppressed: the configuration file suppresses the check.
	ReasonSuppressed Reason = "suppressed"
	// ReasonNotRunning: the software is installed but its daemon is not running, and the
	// check needs the running daemon (the Docker Engine API).
	ReasonNotRunning Reason = "not_running"
)

// Error reasons.
const (
	// ReasonTimeout: the check or a command it ran exceeded its deadline.
	ReasonTimeout Reason = "timeout"
	// ReasonPermissionDenied: access was refused even though the agent runs as root.
	ReasonPermissionDenied Reason = "permission_denied"
	// ReasonTooLarge: a file or command output exceeded the size cap.
	ReasonTooLarge Reason = "too_large"
	// ReasonSymlinkLoop: a path had too many symbolic links.
	ReasonSymlinkLoop Reason = "symlink_loop"
	// ReasonPathEscape: a symbolic link pointed outside the audited root.
	ReasonPathEscape Reason = "path_escape"
	// ReasonParseError: a file or command output could not be parsed.
	ReasonParseError Reason = "parse_error"
	// ReasonCommandFailed: a command could not be started or failed unexpectedly.
	ReasonCommandFailed Reason = "command_failed"
	// ReasonIOError: reading failed for another reason.
	ReasonIOError Reason = "io_error"
	// ReasonPanic: the check panicked (a bug in the check).
	ReasonPanic Reason = "panic"
	// ReasonInternal: the check returned an invalid result (a bug in the check).
	ReasonInternal Reason = "internal"
)

// Reasons lists every reason code.
func Reasons() []Reason {
	return []Reason{
		ReasonNotLive, ReasonNotInstalled, ReasonNotFound, ReasonNeedsRoot, ReasonNotApplicable,
		ReasonNotSupported, ReasonSuppressed, ReasonNotRunning,
		ReasonTimeout, ReasonPermissionDenied, ReasonTooLarge, ReasonSymlinkLoop, ReasonPathEscape,
		ReasonParseError, ReasonCommandFailed, ReasonIOError, ReasonPanic, ReasonInternal,
	}
}

// Valid reports whether r is a known reason code.
func (r Reason) Valid() bool {
	for _, known := range Reasons() {
		if r == known {
			return true
		}
	}
	return false
}

// Facts are the typed values of a result, keyed by the names declared in the catalog.
// Values are bool, integers, string, []string or []int64; object facts hold the object's
// name locally and are hashed by Payload.
type Facts map[string]any

// Report is the local report of one audit.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	AuditID       string    `json:"audit_id"`
	Agent         Agent     `json:"agent"`
	StartedAt     time.Time `json:"started_at"`
	DurationMS    int64     `json:"duration_ms"`
	Host          Host      `json:"host"`
	Summary       Summary   `json:"summary"`
	Results       []Result  `json:"results"`
}

// Agent identifies the agent build.
type Agent struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// Host describes the audited system.
type Host struct {
	// Hostname is shown locally only; it is never sent.
	Hostname string `json:"hostname,omitempty"`
	// Root is "/" for the running system or the --root directory; local only.
	Root string `json:"root"`
	// Live is true when the running system is audited (not an offline root).
	Live bool `json:"live"`
	// OS is the operating system ("linux").
	OS string `json:"os"`
	// Arch is the agent's architecture (GOARCH) on a live host; empty for offline roots.
	Arch string `json:"arch,omitempty"`
	// Distro is the os-release ID ("debian"); DistroVersion its VERSION_ID.
	Distro        string `json:"distro,omitempty"`
	DistroVersion string `json:"distro_version,omitempty"`
	// DistroName is the os-release PRETTY_NAME; local only.
	DistroName string `json:"distro_name,omitempty"`
	// Kernel is the running kernel release on a live host.
	Kernel string `json:"kernel,omitempty"`
}

// Result is the outcome of one check in the local report.
type Result struct {
	ID       string           `json:"id"`
	Family   string           `json:"family"`
	Title    string           `json:"title"`
	Severity catalog.Severity `json:"severity"`
	Status   Status           `json:"status"`
	// Reason is set for skip and error.
	Reason Reason `json:"reason,omitempty"`
	// Message is a one-line human explanation; local only.
	Message string `json:"message,omitempty"`
	// Details are further human-readable lines (paths, names, excerpts); local only.
	Details []string `json:"details,omitempty"`
	// Facts are the typed values; only those declared in the catalog are ever sent.
	Facts Facts `json:"facts,omitempty"`
	// Remediation is the catalog's fix, copied for failures.
	Remediation string `json:"remediation,omitempty"`
	// Suppression is set when the configuration suppresses the check.
	Suppression *Suppression `json:"suppression,omitempty"`
	// DurationMS is the check's wall time in milliseconds.
	DurationMS float64 `json:"duration_ms"`
}

// Suppressed reports whether the configuration suppressed the check.
func (r Result) Suppressed() bool { return r.Status == StatusSkip && r.Reason == ReasonSuppressed }

// Suppression records why a check was suppressed; local only.
type Suppression struct {
	Reason string `json:"reason"`
	// Until is the date (YYYY-MM-DD) after which the suppression lapses, if any.
	Until string `json:"until,omitempty"`
}

// Counts tallies results by status.
type Counts struct {
	Total      int `json:"total"`
	Pass       int `json:"pass"`
	Fail       int `json:"fail"`
	Skip       int `json:"skip"`
	Error      int `json:"error"`
	Suppressed int `json:"suppressed"`
}

// Summary is the score and tallies of a report.
type Summary struct {
	score.Summary
	Counts Counts `json:"counts"`
	// FailedBySeverity counts failures per severity.
	FailedBySeverity map[catalog.Severity]int `json:"failed_by_severity"`
}

// Summarize computes the summary of a set of results.
func Summarize(results []Result) Summary {
	s := Summary{FailedBySeverity: map[catalog.Severity]int{}}
	outcomes := make([]score.Outcome, 0, len(results))
	for _, r := range results {
		s.Counts.Total++
		switch r.Status {
		case StatusPass:
			s.Counts.Pass++
			outcomes = append(outcomes, score.Outcome{Severity: r.Severity, Passed: true})
		case StatusFail:
			s.Counts.Fail++
			s.FailedBySeverity[r.Severity]++
			outcomes = append(outcomes, score.Outcome{Severity: r.Severity})
		case StatusSkip:
			if r.Suppressed() {
				s.Counts.Suppressed++
			} else {
				s.Counts.Skip++
			}
		case StatusError:
			s.Counts.Error++
		}
	}
	s.Summary = score.Compute(outcomes)
	return s
}

// HighestFailure returns the highest severity among failed results and whether any failed.
func (r *Report) HighestFailure() (catalog.Severity, bool) {
	var highest catalog.Severity
	found := false
	for _, res := range r.Results {
		if res.Status != StatusFail {
			continue
		}
		if !found || res.Severity.Rank() > highest.Rank() {
			highest, found = res.Severity, true
		}
	}
	return highest, found
}
