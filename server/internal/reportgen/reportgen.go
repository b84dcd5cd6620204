// Package reportgen builds the human report of an audit from its stored rows: score and
// grade, counts by severity, failures ordered by severity with rationale and fix from the
// catalog, and what changed since the previous audit of the same server. It is a pure
// function of its input, so it is golden-tested.
//
// # Ordering
//
// Every list in a report follows one rule: severity first (critical, high, medium, low,
// info, then any severity the catalog does not know, by name), then check ID. Failures,
// NewFailures, Fixed and NotRechecked are all ordered that way; the table of other results
// is ordered by status first (error, skip, pass, then unknown statuses by name). Ties that
// can only come from malformed input (the same check twice) are broken by status, reason
// and facts, so the output never depends on the order of Input.Results.
//
// # Comparison with the previous audit
//
// A check's status in an audit is the status of its result; should an audit hold several
// results for one check (ingest forbids it), the worst one counts: fail, error, skip, pass.
//
//   - NewFailures: failing now and not failing in the previous audit (passing, skipped,
//     errored or absent then).
//   - Fixed: failing in the previous audit and passing now.
//   - NotRechecked: failing in the previous audit and now skipped, errored or absent. Such a
//     check is neither fixed nor new: nothing says the problem went away, so the report lists
//     it separately under "What changed" as "failed last time, not re-checked now", with the
//     current status and reason (or "no longer reported").
//
// On the first audit of a server (Input.Previous nil) there is nothing to compare with:
// NewFailures, Fixed and NotRechecked are empty, no finding is marked new, and the report
// says it is the first audit.
//
// # Score
//
// The server stores the score and grade the agent computed; Summary.Score and Summary.Grade
// are those. The report also recomputes them from the results with pkg/score
// (ComputedScore, ComputedGrade). When the two disagree, ScoreMismatch is set and both
// renderings show a warning naming both values; the agent's score stays the headline, since
// it is what the rest of the product (history, API) shows.
//
// # Checks and severities
//
// A result's severity is the stored one, which the agent scored with; the catalog's may differ
// when agent and server versions differ. A check ID the server's catalog does not know (a
// newer agent) is still reported, with its ID, severity and facts and no catalog text
// (Finding.Known false). Statuses other than the four known ones are counted under their own
// name and listed with the other results; they are never silently dropped.
//
// # Escaping
//
// Catalog text (titles, rationale, remediation) is trusted: its `code spans` are kept, its
// lines indented by four spaces form code blocks, and the rest is escaped as plain text.
// Everything that comes from the payload (check IDs, host fields, fact keys and values,
// statuses, reasons, severities, the audit ID) is treated as hostile even though the payload
// grammar forbids free text: control, bidirectional-formatting and invalid UTF-8 characters
// become visible escapes such as \x1b or \u202e; in Markdown a value made only of letters,
// digits and ".+~:_-" is shown as a code span and anything else as text with every ASCII
// punctuation character backslash-escaped; in HTML every dynamic value goes through
// html/template's contextual escaping and no value is ever marked as safe HTML.
//
// # Cost
//
// Building the report of a 120-result audit takes a few milliseconds, most of it in
// html/template, whose reflective evaluation costs about a microsecond per escaped value.
// Build parses and escape-analyses the page template on every call (about half a
// millisecond); a worker that builds many reports should create a Renderer once with
// NewRenderer and call its Build method. See BenchmarkBuild.
package reportgen

import (
	"errors"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Input is everything a report is built from.
type Input struct {
	AuditID      string
	ReceivedAt   time.Time
	AgentVersion string
	Score        int
	Grade        string
	Host         Host
	Results      []Result
	// Previous is the previous audit of the same server, nil for the first one.
	Previous *Previous
}

// Host is the stored description of the audited host (payload fields only).
type Host struct {
	OS, Arch, Distro, DistroVersion, Kernel string
	Live                                    bool
}

// Result is one stored check result.
type Result struct {
	CheckID  string
	Status   report.Status
	Severity catalog.Severity
	Reason   report.Reason
	Facts    map[string]any
}

// Previous is the audit a report compares with.
type Previous struct {
	AuditID    string
	ReceivedAt time.Time
	Score      int
	Grade      string
	Results    []Result
}

// Output is a built report.
type Output struct {
	Markdown string
	HTML     string
	// Summary is the structured form served as JSON.
	Summary Summary
}

// Summary is the structured report.
type Summary struct {
	AuditID    string    `json:"audit_id"`
	ReceivedAt time.Time `json:"received_at"`
	// Score and Grade are the agent's, as stored.
	Score int    `json:"score"`
	Grade string `json:"grade"`
	// ComputedScore and ComputedGrade are recomputed from Results with pkg/score.
	ComputedScore int    `json:"computed_score"`
	ComputedGrade string `json:"computed_grade"`
	// ScoreMismatch is true when the computed score or grade differs from the agent's.
	ScoreMismatch bool `json:"score_mismatch"`
	// Total is the number of results.
	Total int `json:"total"`
	// Counts has an entry for each of the four statuses (zero included) and for any other
	// status found in the results.
	Counts map[report.Status]int `json:"counts"`
	// Suppressed is how many of the skips the agent's configuration suppressed.
	Suppressed int `json:"suppressed"`
	// FailedBySeverity has an entry for each of the five severities (zero included) and
	// for any other severity among the failures.
	FailedBySeverity map[catalog.Severity]int `json:"failed_by_severity"`
	// Failures are ordered by severity, critical first, then check ID.
	Failures []Finding `json:"failures"`
	// NewFailures and Fixed compare with the previous audit of the same server. They hold
	// check IDs ordered like Failures (severity, then ID) and are empty, not null, on the
	// first audit.
	NewFailures []string `json:"new_failures"`
	Fixed       []string `json:"fixed"`
	// NotRechecked lists the checks that failed in the previous audit and are now skipped,
	// errored or absent: neither fixed nor new.
	NotRechecked  []NotRechecked `json:"not_rechecked"`
	PreviousAudit string         `json:"previous_audit,omitempty"`
	PreviousScore *int           `json:"previous_score,omitempty"`
	// PreviousGrade is the previous audit's grade, empty on the first audit.
	PreviousGrade string `json:"previous_grade,omitempty"`
	// ScoreDelta is Score minus PreviousScore, set only when both audits were scored
	// (neither grade is N/A).
	ScoreDelta *int `json:"score_delta,omitempty"`
}

// Finding is a failed check in the report.
type Finding struct {
	CheckID string `json:"check_id"`
	// Title, Rationale, Remediation and References are the catalog's; they are empty for
	// a check the server's catalog does not know (Known false), e.g. from a newer agent.
	Title string `json:"title"`
	// Severity is the stored severity of the result, the one the agent scored with.
	Severity    catalog.Severity `json:"severity"`
	Rationale   string           `json:"rationale"`
	Remediation string           `json:"remediation"`
	// References cite the catalog's sources. They are served here for a UI to link to; the
	// Markdown and HTML reports leave them out to stay focused on what to fix.
	References []catalog.Reference `json:"references,omitempty"`
	// Known is false when the server's catalog has no entry for CheckID.
	Known bool           `json:"known"`
	Facts map[string]any `json:"facts,omitempty"`
	// New is true when the check did not fail in the previous audit; always false on the
	// first audit.
	New bool `json:"new"`
}

// NotRechecked is a check that failed in the previous audit and was not evaluated now.
type NotRechecked struct {
	CheckID string `json:"check_id"`
	// Severity is the severity of the previous failure.
	Severity catalog.Severity `json:"severity"`
	// Status and Reason are the current result's; both are empty when Missing.
	Status report.Status `json:"status,omitempty"`
	Reason report.Reason `json:"reason,omitempty"`
	// Missing is true when the current audit has no result for the check.
	Missing bool `json:"missing,omitempty"`
}

// Renderer builds reports. It holds the parsed HTML template, so a worker that builds many
// reports can create one Renderer and reuse it; it is safe for concurrent use.
type Renderer struct {
	html *htmlRenderer
}

// NewRenderer parses the report templates.
func NewRenderer() (*Renderer, error) {
	h, err := newHTMLRenderer()
	if err != nil {
		return nil, err
	}
	return &Renderer{html: h}, nil
}

// Build builds the report of in with the texts of cat. It is deterministic: the same input
// gives the same bytes. It is a convenience that creates a Renderer for one report; callers
// that build many reports should keep a Renderer from NewRenderer.
func Build(in Input, cat *catalog.Catalog) (Output, error) {
	r, err := NewRenderer()
	if err != nil {
		return Output{}, err
	}
	return r.Build(in, cat)
}

// Build builds the report of in with the texts of cat; see the package documentation for
// its ordering, comparison and escaping rules. The same input gives the same bytes, whatever
// the order of in.Results and in.Previous.Results.
func (r *Renderer) Build(in Input, cat *catalog.Catalog) (Output, error) {
	if cat == nil {
		return Output{}, errors.New("reportgen: build report: no catalog")
	}
	m := newModel(in, cat)
	v := newView(m)
	html, err := r.html.render(v)
	if err != nil {
		return Output{}, err
	}
	return Output{Markdown: renderMarkdown(v), HTML: html, Summary: m.summary()}, nil
}
