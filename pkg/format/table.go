package format

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
)

// tableWidth is the column at which the table wraps messages, details and fixes.
const tableWidth = 100

// Indentation of the table: result lines, their message and fix, and detail lines.
const (
	headIndent   = "  "
	bodyIndent   = "      "
	detailIndent = "        "
)

// ANSI SGR sequences used by the table when colour is on.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBoldR  = "\x1b[1;31m"
	ansiBoldY  = "\x1b[1;33m"
)

// tableWriter renders the table into a buffer.
type tableWriter struct {
	buf   *bytes.Buffer
	opts  Options
	color bool
}

// paint wraps s in an SGR sequence when colour is on.
func (t *tableWriter) paint(sgr, s string) string {
	if !t.color || sgr == "" || s == "" {
		return s
	}
	return sgr + s + ansiReset
}

// line writes one line.
func (t *tableWriter) line(s string) {
	t.buf.WriteString(s)
	t.buf.WriteByte('\n')
}

// wrapped writes text wrapped at tableWidth: the first line after first, the others after
// rest. Every line of text (after lines) is wrapped separately; words longer than the width
// are not broken.
func (t *tableWriter) wrapped(first, rest, text string) {
	prefix := first
	for _, l := range lines(text) {
		for _, out := range wrap(l, tableWidth-displayWidth(prefix), tableWidth-displayWidth(rest)) {
			if out == "" {
				t.line(strings.TrimRight(prefix, " "))
				prefix = rest
				continue
			}
			t.line(prefix + out)
			prefix = rest
		}
		prefix = rest
	}
}

// prose writes catalog text: runs of unindented lines are one paragraph, re-wrapped to the
// table width; indented lines (commands, configuration snippets) are kept verbatim, never
// broken; blank lines separate paragraphs.
func (t *tableWriter) prose(first, rest, text string) {
	prefix := first
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		t.wrapped(prefix, rest, strings.Join(para, " "))
		para, prefix = nil, rest
	}
	for _, l := range lines(strings.TrimRight(text, "\n")) {
		switch {
		case strings.TrimSpace(l) == "":
			flush()
			t.line(strings.TrimRight(prefix, " "))
			prefix = rest
		case l[0] == ' ' || l[0] == '\t':
			flush()
			t.line(prefix + l)
			prefix = rest
		default:
			para = append(para, strings.TrimSpace(l))
		}
	}
	flush()
}

// displayWidth counts the runes of s that take a column: SGR sequences take none.
func displayWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && s[j] != 'm' {
				j++
			}
			i = j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		n++
		i += size
	}
	return n
}

// wrap breaks a line at spaces so that the first piece fits firstWidth and the others
// restWidth. A line that fits is returned unchanged.
func wrap(line string, firstWidth, restWidth int) []string {
	if utf8.RuneCountInString(line) <= firstWidth {
		return []string{line}
	}
	words := strings.Fields(line)
	if len(words) == 0 {
		return []string{""}
	}
	var out []string
	cur, width := words[0], firstWidth
	for _, w := range words[1:] {
		if utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) > width {
			out = append(out, cur)
			cur, width = w, restWidth
			continue
		}
		cur += " " + w
	}
	return append(out, cur)
}

// renderTable writes the human report: a header with host, score and counts, results
// grouped by family (failures by severity, then errors, skips and passes), and suppressed
// checks last with the user's reason.
func renderTable(buf *bytes.Buffer, r *report.Report, opts Options) error {
	t := &tableWriter{buf: buf, opts: opts, color: opts.Color}
	t.header(r)
	t.line("")
	t.summary(r.Summary)
	var active, suppressed []report.Result
	for _, res := range r.Results {
		if res.Suppressed() {
			suppressed = append(suppressed, res)
		} else {
			active = append(active, res)
		}
	}
	for _, g := range groupByFamily(active, opts) {
		t.line("")
		heading, suffix := familyTitle(opts, g.name), ": "+countLine(g.results)
		if heading != g.name {
			suffix = " (" + g.name + ")" + suffix
		}
		t.line(t.paint(ansiBold, visible(heading)) + t.paint(ansiDim, visible(suffix)))
		for _, res := range sortedResults(g.results) {
			t.result(res)
		}
	}
	if len(suppressed) > 0 {
		t.line("")
		t.line(t.paint(ansiBold, fmt.Sprintf("Suppressed (%d)", len(suppressed))))
		for _, res := range sortedResults(suppressed) {
			t.line(headIndent + t.severity(res.Severity, false) + "  " + visible(res.ID) + ": " + visible(titleOf(opts, res)))
			t.wrapped(bodyIndent+"Reason: ", bodyIndent+"        ", suppressionText(res))
		}
	}
	if len(r.Results) == 0 {
		t.line("")
		t.line("No checks ran.")
	}
	return nil
}

// header writes the report header.
func (t *tableWriter) header(r *report.Report) {
	title := "server-audit"
	if r.Agent.Version != "" {
		title += " " + r.Agent.Version
	}
	t.line(t.paint(ansiBold, visible(title)+" report"))
	field := func(name, value string) { t.wrapped(fmt.Sprintf("%-10s", name), strings.Repeat(" ", 10), value) }

	field("Host", hostLine(r.Host))
	if sys := systemLine(r.Host); sys != "" {
		field("System", sys)
	}
	if r.AuditID != "" {
		field("Audit", r.AuditID)
	}
	field("Started", startedLine(r))
}

// summary writes the score and the counts.
func (t *tableWriter) summary(s report.Summary) {
	scoreText := fmt.Sprintf("Score %d/100 (grade %s)", s.Score, s.Grade)
	if !s.Scored {
		scoreText = fmt.Sprintf("Score n/a (grade %s): no check passed or failed", s.Grade)
	}
	t.line(t.paint(gradeColor(s), scoreText))
	c := s.Counts
	t.line(fmt.Sprintf("%s%d checks: %s pass, %s fail, %s skip, %s error, %s suppressed", headIndent, c.Total,
		t.count(c.Pass, ansiGreen), t.count(c.Fail, ansiBoldR), t.count(c.Skip, ansiYellow),
		t.count(c.Error, ansiBoldY), t.count(c.Suppressed, ansiDim)))
	if parts := failedBySeverity(s); len(parts) > 0 {
		t.line(headIndent + "Failed: " + strings.Join(parts, ", "))
	}
}

// count formats a count, coloured when it is not zero.
func (t *tableWriter) count(n int, sgr string) string {
	if n == 0 {
		return "0"
	}
	return t.paint(sgr, fmt.Sprint(n))
}

// gradeColor is the colour of the score line.
func gradeColor(s report.Summary) string {
	switch {
	case !s.Scored:
		return ansiBold
	case s.Grade == score.GradeA || s.Grade == score.GradeB:
		return ansiBold + ansiGreen
	case s.Grade == score.GradeC || s.Grade == score.GradeD:
		return ansiBoldY
	}
	return ansiBoldR
}

// hostLine describes the audited host and whether it is live or an offline root.
func hostLine(h report.Host) string {
	target := "live system"
	if !h.Live {
		root := h.Root
		if root == "" {
			root = "(unknown)"
		}
		target = "offline root " + root
	}
	if h.Hostname == "" {
		return target
	}
	return h.Hostname + ", " + target
}

// systemLine describes the distribution, kernel and architecture.
func systemLine(h report.Host) string {
	var parts []string
	switch {
	case h.DistroName != "":
		parts = append(parts, h.DistroName)
	case h.Distro != "":
		parts = append(parts, strings.TrimSpace(h.Distro+" "+h.DistroVersion))
	case h.OS != "":
		parts = append(parts, h.OS)
	}
	if h.Kernel != "" {
		parts = append(parts, "kernel "+h.Kernel)
	}
	if h.Arch != "" {
		parts = append(parts, h.Arch)
	}
	return strings.Join(parts, ", ")
}

// startedLine gives the start time (UTC) and duration.
func startedLine(r *report.Report) string {
	if r.StartedAt.IsZero() {
		return fmt.Sprintf("took %d ms", r.DurationMS)
	}
	return fmt.Sprintf("%s, took %d ms", r.StartedAt.UTC().Format(time.DateTime+" UTC"), r.DurationMS)
}

// countLine summarises the statuses of a family.
func countLine(results []report.Result) string {
	var fail, errs, skip, pass int
	for _, res := range results {
		switch res.Status {
		case report.StatusFail:
			fail++
		case report.StatusError:
			errs++
		case report.StatusSkip:
			skip++
		case report.StatusPass:
			pass++
		}
	}
	var parts []string
	for _, p := range []struct {
		n    int
		name string
	}{{fail, "fail"}, {errs, "error"}, {skip, "skip"}, {pass, "pass"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	return strings.Join(parts, ", ")
}

// severity formats a severity padded to a column, coloured for failures.
func (t *tableWriter) severity(s catalog.Severity, failed bool) string {
	text := fmt.Sprintf("%-8s", visible(string(s)))
	if !failed {
		return text
	}
	switch s {
	case catalog.SeverityCritical:
		return t.paint(ansiBoldR, text)
	case catalog.SeverityHigh:
		return t.paint(ansiRed, text)
	case catalog.SeverityMedium:
		return t.paint(ansiYellow, text)
	}
	return text
}

// result writes one result: a head line and, except for passes, its explanation.
func (t *tableWriter) result(res report.Result) {
	var label, sgr string
	switch res.Status {
	case report.StatusFail:
		label, sgr = "FAIL", ansiBoldR
	case report.StatusError:
		label, sgr = "ERROR", ansiBoldY
	case report.StatusSkip:
		label, sgr = "SKIP", ansiYellow
	case report.StatusPass:
		label, sgr = "PASS", ansiGreen
	default:
		label = strings.ToUpper(visible(string(res.Status)))
	}
	head := headIndent + t.paint(sgr, label) + strings.Repeat(" ", max(5-len(label), 0)) + "  " +
		t.severity(res.Severity, res.Status == report.StatusFail) + "  " +
		visible(res.ID) + ": " + visible(titleOf(t.opts, res))
	t.line(head)
	switch res.Status {
	case report.StatusPass:
		return
	case report.StatusFail:
		t.wrapped(bodyIndent, bodyIndent, res.Message)
	default:
		t.wrapped(bodyIndent, bodyIndent, reasonMessage(res.Reason, res.Message))
	}
	for _, d := range res.Details {
		t.wrapped(detailIndent, detailIndent+"  ", d)
	}
	if res.Status == report.StatusFail {
		if fix := remediationOf(t.opts, res); fix != "" {
			t.prose(bodyIndent+t.paint(ansiBold, "Fix:")+" ", bodyIndent+"     ", fix)
		}
	}
}
