package reportgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
)

// view is the content of a report, shared by the Markdown and HTML renderers. Strings that
// come from the payload are cleaned (see clean) but not escaped; each renderer escapes them.
// Lines made of segs mix the report's own words, catalog text and payload values.
type view struct {
	AuditID  string
	Received string
	Agent    string
	Host     []seg
	Score    []seg
	// Change compares the score with the previous audit's; nil on the first audit.
	Change []seg
	// Mismatch warns that the recomputed score differs; nil when it does not.
	Mismatch []seg

	Counts     []countRow
	Total      int
	Severities []countRow

	First bool
	// Previous describes the previous audit; nil on the first audit.
	Previous     []seg
	NewFailures  []changeRow
	Fixed        []changeRow
	NotRechecked []changeRow

	FailureCount int
	Groups       []group
	Others       []otherRow
}

// rows is the number of table and list rows of the report outside the failures, to size
// the output buffers.
func (v *view) rows() int {
	return len(v.Others) + len(v.NewFailures) + len(v.Fixed) + len(v.NotRechecked)
}

// countRow is a row of a counts table.
type countRow struct {
	Label []seg
	N     int
	Note  []seg
}

// changeRow is a check in a "what changed" list.
type changeRow struct {
	ID       string
	Known    bool
	Title    []seg
	Severity string
	Class    string
	// Note is the current state of a check that was not re-checked.
	Note []seg
}

// group is the failures of one severity.
type group struct {
	Label    []seg
	Findings []findingView
}

// findingView is a failure as shown.
type findingView struct {
	ID          string
	Anchor      string
	Known       bool
	Title       []seg
	Severity    string
	Class       string
	Family      string
	New         bool
	Facts       []fact
	Rationale   []block
	Remediation []block
}

// otherRow is a row of the table of results that did not fail.
type otherRow struct {
	ID       string
	Known    bool
	Title    []seg
	Severity string
	Status   string
	Class    string
	Reason   string
}

// timeText formats a time for the report, in UTC.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// scoreSegs describes a score and grade: "72/100, grade C", or "not scored" for N/A.
func scoreSegs(points int, grade string) []seg {
	if grade == score.GradeNone {
		return []seg{text("not scored (no weighted check passed or failed)")}
	}
	return []seg{text(strconv.Itoa(points) + "/100, grade "), value(grade)}
}

// severityClass is a CSS class token for a severity; unknown severities share one.
func severityClass(s catalog.Severity) string {
	if s.Valid() {
		return string(s)
	}
	return "unknown"
}

// severityLabel is a heading for a severity ("Critical").
func severityLabel(s catalog.Severity) []seg {
	if s.Valid() {
		return []seg{text(strings.ToUpper(string(s[:1])) + string(s[1:]))}
	}
	if s == "" {
		return []seg{text("No severity")}
	}
	return []seg{text("Severity "), value(string(s))}
}

// statusClass is a CSS class token for a status.
func statusClass(s report.Status) string {
	if s.Valid() {
		return string(s)
	}
	return "unknown"
}

// anchorOf returns an HTML id for the finding at index i: "check-" and the check ID when it
// is made of safe characters and not already used, otherwise a positional one. used records
// the ids given.
func anchorOf(id string, i int, used map[string]bool) string {
	if isPlainValue(id) && !used[id] {
		used[id] = true
		return "check-" + id
	}
	return "finding-" + strconv.Itoa(i+1)
}

// titleOf returns the catalog title of a known check.
func titleOf(e catalog.Entry, known bool) []seg {
	if !known {
		return nil
	}
	return parseLine(e.Title)
}

// newView lays out the report of m.
func newView(m *model) *view {
	in := m.in
	v := &view{
		AuditID:      clean(in.AuditID),
		Received:     timeText(in.ReceivedAt),
		Agent:        clean(in.AgentVersion),
		Host:         hostSegs(in.Host),
		Score:        scoreSegs(in.Score, in.Grade),
		Total:        len(in.Results),
		First:        in.Previous == nil,
		FailureCount: len(m.failures),
	}
	if m.scoreMismatch() {
		v.Mismatch = append([]seg{text("The score reported by the agent (")}, scoreSegs(in.Score, in.Grade)...)
		v.Mismatch = append(v.Mismatch, text(") differs from the score recomputed from the results ("))
		v.Mismatch = append(v.Mismatch, scoreSegs(m.computed.Score, m.computed.Grade)...)
		v.Mismatch = append(v.Mismatch, text("). The report shows the agent's score, which is the one stored; an agent and a server of different versions may score differently."))
	}
	if p := in.Previous; p != nil {
		v.Previous = []seg{text("Compared with the previous audit "), value(p.AuditID), text(", received " + timeText(p.ReceivedAt) + ": ")}
		v.Previous = append(v.Previous, scoreSegs(p.Score, p.Grade)...)
		v.Previous = append(v.Previous, text("."))
		if d, ok := m.scoreDelta(); ok {
			switch {
			case d > 0:
				v.Change = []seg{text(fmt.Sprintf("up %d from %d/100 at the previous audit", d, p.Score))}
			case d < 0:
				v.Change = []seg{text(fmt.Sprintf("down %d from %d/100 at the previous audit", -d, p.Score))}
			default:
				v.Change = []seg{text("unchanged since the previous audit")}
			}
		} else {
			v.Change = []seg{text("previous audit: ")}
			v.Change = append(v.Change, scoreSegs(p.Score, p.Grade)...)
		}
	}

	for _, s := range []report.Status{report.StatusPass, report.StatusFail, report.StatusSkip, report.StatusError} {
		row := countRow{Label: []seg{text(statusLabel(s))}, N: m.counts[s]}
		if s == report.StatusSkip && m.suppressed > 0 {
			row.Note = []seg{text(fmt.Sprintf("%d suppressed by configuration", m.suppressed))}
		}
		v.Counts = append(v.Counts, row)
	}
	for _, s := range sortedKeys(m.counts) {
		if !s.Valid() {
			v.Counts = append(v.Counts, countRow{Label: []seg{value(string(s))}, N: m.counts[s], Note: []seg{text("unknown status")}})
		}
	}
	sevs := catalog.Severities()
	for i := len(sevs) - 1; i >= 0; i-- {
		v.Severities = append(v.Severities, countRow{Label: severityLabel(sevs[i]), N: m.failedBy[sevs[i]]})
	}
	for _, sev := range sortedKeys(m.failedBy) {
		if !sev.Valid() {
			v.Severities = append(v.Severities, countRow{Label: severityLabel(sev), N: m.failedBy[sev]})
		}
	}

	v.NewFailures = m.changeRows(m.newFailures)
	v.Fixed = m.changeRows(m.fixed)
	v.NotRechecked = m.changeRows(m.notRechecked)

	anchors := make(map[string]bool, len(m.failures))
	for i, r := range m.failures {
		sev := r.res.Severity
		if len(v.Groups) == 0 || i > 0 && m.failures[i-1].res.Severity != sev {
			v.Groups = append(v.Groups, group{Label: severityLabel(sev)})
		}
		f := findingView{
			ID:       clean(r.res.CheckID),
			Anchor:   anchorOf(r.res.CheckID, i, anchors),
			Known:    r.known,
			Title:    titleOf(r.entry, r.known),
			Severity: clean(string(sev)),
			Class:    severityClass(sev),
			New:      r.isNew,
			Facts:    r.facts,
		}
		if r.known {
			f.Family = m.cat.FamilyTitle(r.entry.Family())
			f.Rationale = parseBlocks(r.entry.Rationale)
			f.Remediation = parseBlocks(r.entry.Remediation)
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Findings = append(g.Findings, f)
	}
	for _, r := range m.others {
		o := otherRow{
			ID:       clean(r.res.CheckID),
			Known:    r.known,
			Title:    titleOf(r.entry, r.known),
			Severity: clean(string(r.res.Severity)),
			Status:   clean(string(r.res.Status)),
			Class:    statusClass(r.res.Status),
			Reason:   clean(string(r.res.Reason)),
		}
		v.Others = append(v.Others, o)
	}
	return v
}

// changeRows lays out a "what changed" list.
func (m *model) changeRows(changes []change) []changeRow {
	out := make([]changeRow, 0, len(changes))
	for _, c := range changes {
		e, known := m.cat.Lookup(c.id)
		row := changeRow{ID: clean(c.id), Known: known, Title: titleOf(e, known), Severity: clean(string(c.severity)), Class: severityClass(c.severity)}
		switch {
		case c.missing:
			row.Note = []seg{text("no longer reported")}
		case c.state.status == report.StatusSkip:
			row.Note = []seg{text("now skipped")}
		case c.state.status == report.StatusError:
			row.Note = []seg{text("now errored")}
		case c.state.status != report.StatusPass && c.state.status != report.StatusFail:
			row.Note = []seg{text("now "), value(string(c.state.status))}
		}
		if row.Note != nil && c.state.reason != "" {
			row.Note = append(row.Note, text(": "), value(string(c.state.reason)))
		}
		out = append(out, row)
	}
	return out
}

// statusLabel is the counts-table label of a status.
func statusLabel(s report.Status) string {
	switch s {
	case report.StatusPass:
		return "Pass"
	case report.StatusFail:
		return "Fail"
	case report.StatusSkip:
		return "Skip"
	case report.StatusError:
		return "Error"
	}
	return clean(string(s))
}

// hostSegs describes the host: "debian 12, kernel 6.1.0, amd64, linux, live system".
func hostSegs(h Host) []seg {
	var out []seg
	sep := func() {
		if len(out) > 0 {
			out = append(out, text(", "))
		}
	}
	if h.Distro != "" || h.DistroVersion != "" {
		if h.Distro != "" {
			out = append(out, value(h.Distro))
		}
		if h.DistroVersion != "" {
			if h.Distro != "" {
				out = append(out, text(" "))
			}
			out = append(out, value(h.DistroVersion))
		}
	}
	if h.Kernel != "" {
		sep()
		out = append(out, text("kernel "), value(h.Kernel))
	}
	if h.Arch != "" {
		sep()
		out = append(out, value(h.Arch))
	}
	if h.OS != "" {
		sep()
		out = append(out, value(h.OS))
	}
	sep()
	if h.Live {
		out = append(out, text("live system"))
	} else {
		out = append(out, text("offline root (file-based checks only)"))
	}
	return out
}
