// Package reportgen builds the human report of an audit from its stored rows: score and
// grade, counts by severity, failures ordered by severity with rationale and fix from the
// catalog, and what changed since the previous audit of the same server. It is a pure
// function of its input, so it is golden-tested.
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
	AuditID          string                   `json:"audit_id"`
	ReceivedAt       time.Time                `json:"received_at"`
	Score            int                      `json:"score"`
	Grade            string                   `json:"grade"`
	Counts           map[report.Status]int    `json:"counts"`
	FailedBySeverity map[catalog.Severity]int `json:"failed_by_severity"`
	Failures         []Finding                `json:"failures"`
	// NewFailures and Fixed compare with the previous audit of the same server.
	NewFailures   []string `json:"new_failures"`
	Fixed         []string `json:"fixed"`
	PreviousAudit string   `json:"previous_audit,omitempty"`
	PreviousScore *int     `json:"previous_score,omitempty"`
}

// Finding is a failed check in the report.
type Finding struct {
	CheckID     string           `json:"check_id"`
	Title       string           `json:"title"`
	Severity    catalog.Severity `json:"severity"`
	Rationale   string           `json:"rationale"`
	Remediation string           `json:"remediation"`
	Facts       map[string]any   `json:"facts,omitempty"`
	New         bool             `json:"new"`
}

// Build builds the report of in with the texts of cat. It is deterministic: the same input
// gives the same bytes.
func Build(in Input, cat *catalog.Catalog) (Output, error) {
	return Output{}, errors.New("reportgen.Build: not implemented yet")
}
