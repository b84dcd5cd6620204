package reportgen

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
)

// row is one result with what the report shows of it.
type row struct {
	res   Result
	entry catalog.Entry
	known bool
	// facts are the result's facts ordered by key, in display form.
	facts []fact
	// factsKey is a rendering of facts that breaks ties between duplicate check IDs.
	factsKey string
	// isNew marks a failure that did not fail in the previous audit.
	isNew bool
}

// checkState is the status of one check in an audit, from the worst of its results.
type checkState struct {
	status   report.Status
	reason   report.Reason
	severity catalog.Severity
}

// change is a check in a "what changed" list.
type change struct {
	id       string
	severity catalog.Severity
	state    checkState
	missing  bool
}

// model is an audit's results sorted and compared, ready to summarise and render.
type model struct {
	in  Input
	cat *catalog.Catalog

	computed   score.Summary
	counts     map[report.Status]int
	suppressed int
	failedBy   map[catalog.Severity]int

	failures []*row
	others   []*row

	newFailures  []change
	fixed        []change
	notRechecked []change
}

// newModel sorts and compares the results of in.
func newModel(in Input, cat *catalog.Catalog) *model {
	m := &model{
		in:       in,
		cat:      cat,
		counts:   map[report.Status]int{},
		failedBy: map[catalog.Severity]int{},
	}
	for _, s := range []report.Status{report.StatusPass, report.StatusFail, report.StatusSkip, report.StatusError} {
		m.counts[s] = 0
	}
	for _, s := range catalog.Severities() {
		m.failedBy[s] = 0
	}

	scored := make([]report.Result, 0, len(in.Results))
	for _, res := range in.Results {
		r := &row{res: res}
		r.entry, r.known = cat.Lookup(res.CheckID)
		r.facts = factsOf(res.Facts)
		r.factsKey = factsKey(r.facts)
		m.counts[res.Status]++
		scored = append(scored, report.Result{ID: res.CheckID, Severity: res.Severity, Status: res.Status, Reason: res.Reason})
		if res.Status == report.StatusFail {
			m.failedBy[res.Severity]++
			m.failures = append(m.failures, r)
		} else {
			m.others = append(m.others, r)
		}
	}
	summary := report.Summarize(scored)
	m.computed = summary.Summary
	m.suppressed = summary.Counts.Suppressed
	slices.SortFunc(m.failures, compareFailures)
	slices.SortFunc(m.others, compareOthers)

	if in.Previous != nil {
		m.compare(in.Previous)
	}
	return m
}

// compare fills the "what changed" lists and marks new failures.
func (m *model) compare(prev *Previous) {
	now := states(m.in.Results)
	before := states(prev.Results)
	newIDs := map[string]bool{}
	for _, id := range sortedKeys(now) {
		cur := now[id]
		old, seen := before[id]
		if cur.status == report.StatusFail && (!seen || old.status != report.StatusFail) {
			m.newFailures = append(m.newFailures, change{id: id, severity: cur.severity, state: cur})
			newIDs[id] = true
		}
	}
	for _, id := range sortedKeys(before) {
		old := before[id]
		if old.status != report.StatusFail {
			continue
		}
		cur, seen := now[id]
		switch {
		case !seen:
			m.notRechecked = append(m.notRechecked, change{id: id, severity: old.severity, missing: true})
		case cur.status == report.StatusPass:
			m.fixed = append(m.fixed, change{id: id, severity: cur.severity, state: cur})
		case cur.status != report.StatusFail:
			m.notRechecked = append(m.notRechecked, change{id: id, severity: old.severity, state: cur})
		}
	}
	for _, list := range [][]change{m.newFailures, m.fixed, m.notRechecked} {
		slices.SortFunc(list, func(a, b change) int {
			if c := compareSeverity(a.severity, b.severity); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
	}
	for _, r := range m.failures {
		r.isNew = newIDs[r.res.CheckID]
	}
}

// states returns the state of every check in results. A check with several results takes
// the worst: fail, error, any unknown status, skip, pass.
func states(results []Result) map[string]checkState {
	out := make(map[string]checkState, len(results))
	for _, res := range results {
		s := checkState{status: res.Status, reason: res.Reason, severity: res.Severity}
		old, ok := out[res.CheckID]
		if !ok || compareState(s, old) < 0 {
			out[res.CheckID] = s
		}
	}
	return out
}

// compareState orders states worst first; equal statuses order by severity, then by the
// status and reason text, so that duplicates resolve the same way in any input order.
func compareState(a, b checkState) int {
	if c := cmp.Compare(worstRank(b.status), worstRank(a.status)); c != 0 {
		return c
	}
	if c := compareSeverity(a.severity, b.severity); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.status), string(b.status)); c != 0 {
		return c
	}
	return strings.Compare(string(a.reason), string(b.reason))
}

// worstRank ranks statuses for comparison: fail is the worst.
func worstRank(s report.Status) int {
	switch s {
	case report.StatusFail:
		return 4
	case report.StatusError:
		return 3
	case report.StatusSkip:
		return 1
	case report.StatusPass:
		return 0
	}
	return 2
}

// compareSeverity orders severities critical first, then unknown ones by name.
func compareSeverity(a, b catalog.Severity) int {
	if c := cmp.Compare(b.Rank(), a.Rank()); c != 0 {
		return c
	}
	return strings.Compare(string(a), string(b))
}

// compareFailures orders failures by severity, then check ID, then (duplicates only)
// reason and facts.
func compareFailures(a, b *row) int {
	if c := compareSeverity(a.res.Severity, b.res.Severity); c != 0 {
		return c
	}
	return compareRest(a, b)
}

// compareRest breaks ties by check ID, status, reason and facts.
func compareRest(a, b *row) int {
	if c := strings.Compare(a.res.CheckID, b.res.CheckID); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.res.Status), string(b.res.Status)); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.res.Reason), string(b.res.Reason)); c != 0 {
		return c
	}
	return strings.Compare(a.factsKey, b.factsKey)
}

// otherRank orders the statuses of the other-results table: errors, unknown statuses,
// skips, passes.
func otherRank(s report.Status) int {
	switch s {
	case report.StatusError:
		return 0
	case report.StatusSkip:
		return 2
	case report.StatusPass:
		return 3
	}
	return 1
}

// compareOthers orders non-failing results by status, severity, then check ID.
func compareOthers(a, b *row) int {
	if c := cmp.Compare(otherRank(a.res.Status), otherRank(b.res.Status)); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.res.Status), string(b.res.Status)); c != 0 {
		return c
	}
	if c := compareSeverity(a.res.Severity, b.res.Severity); c != 0 {
		return c
	}
	return compareRest(a, b)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[K ~string, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

// scoreMismatch reports whether the recomputed score differs from the agent's.
func (m *model) scoreMismatch() bool {
	return m.computed.Score != m.in.Score || m.computed.Grade != m.in.Grade
}

// scoreDelta is the score change since the previous audit; ok is false unless both audits
// were scored.
func (m *model) scoreDelta() (delta int, ok bool) {
	p := m.in.Previous
	if p == nil || m.in.Grade == score.GradeNone || p.Grade == score.GradeNone {
		return 0, false
	}
	return m.in.Score - p.Score, true
}

// summary returns the structured report.
func (m *model) summary() Summary {
	s := Summary{
		AuditID:          m.in.AuditID,
		ReceivedAt:       m.in.ReceivedAt.UTC(),
		Score:            m.in.Score,
		Grade:            m.in.Grade,
		ComputedScore:    m.computed.Score,
		ComputedGrade:    m.computed.Grade,
		ScoreMismatch:    m.scoreMismatch(),
		Total:            len(m.in.Results),
		Counts:           maps.Clone(m.counts),
		Suppressed:       m.suppressed,
		FailedBySeverity: maps.Clone(m.failedBy),
		Failures:         make([]Finding, 0, len(m.failures)),
		NewFailures:      ids(m.newFailures),
		Fixed:            ids(m.fixed),
		NotRechecked:     make([]NotRechecked, 0, len(m.notRechecked)),
	}
	for _, r := range m.failures {
		f := Finding{
			CheckID:  r.res.CheckID,
			Severity: r.res.Severity,
			Known:    r.known,
			New:      r.isNew,
		}
		if r.known {
			f.Title, f.Rationale, f.Remediation = r.entry.Title, r.entry.Rationale, r.entry.Remediation
			f.References = slices.Clone(r.entry.References)
		}
		if len(r.res.Facts) > 0 {
			f.Facts = maps.Clone(r.res.Facts)
		}
		s.Failures = append(s.Failures, f)
	}
	for _, c := range m.notRechecked {
		s.NotRechecked = append(s.NotRechecked, NotRechecked{
			CheckID: c.id, Severity: c.severity, Status: c.state.status, Reason: c.state.reason, Missing: c.missing,
		})
	}
	if p := m.in.Previous; p != nil {
		prevScore := p.Score
		s.PreviousAudit, s.PreviousScore, s.PreviousGrade = p.AuditID, &prevScore, p.Grade
		if d, ok := m.scoreDelta(); ok {
			s.ScoreDelta = &d
		}
	}
	return s
}

// ids returns the check IDs of changes, never nil.
func ids(changes []change) []string {
	out := make([]string, 0, len(changes))
	for _, c := range changes {
		out = append(out, c.id)
	}
	return out
}
