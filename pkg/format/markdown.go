package format

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/securecodehq/server-audit/pkg/report"

	"github.com/securecodehq/server-audit/pkg/textsafe"
)

// mdSpecial lists the characters that are markup in GitHub-flavoured Markdown inline text
// (including $ for math and # for headings). CommonMark allows a backslash before any ASCII
// punctuation, so escaped text renders exactly as the original characters.
const mdSpecial = "\\`*_[]<>&|~$#"

// mdEscape backslash-escapes the Markdown special characters of one line. An underscore
// between two letters or digits is left alone: it cannot start or end emphasis there, and
// names like sshd_config stay readable.
func mdEscape(s string) string {
	if !strings.ContainsAny(s, mdSpecial) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i, c := range rs {
		if c == '_' && i > 0 && i+1 < len(rs) && isAlnum(rs[i-1]) && isAlnum(rs[i+1]) {
			b.WriteRune(c)
			continue
		}
		if strings.ContainsRune(mdSpecial, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// isAlnum reports whether c is a letter or digit.
func isAlnum(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// mdText escapes host text for inline Markdown; lines are joined with sep.
func mdText(s, sep string) string {
	ls := lines(s)
	for i, l := range ls {
		ls[i] = mdEscape(l)
	}
	return strings.Join(ls, sep)
}

// mdCatalog formats catalog text (titles, remediation) for Markdown. Catalog text is plain
// text in which `code spans` are meant as code: the code spans are kept, everything else is
// escaped like host text, so that "<user>" or "a_b_c" render as written. Lines are joined
// with sep. When sep is a newline (block context), lines indented by four spaces after a
// blank line form an indented code block and are kept verbatim. In a table cell (cell true)
// pipes inside code spans are escaped as well, as GFM requires.
func mdCatalog(s, sep string, cell bool) string {
	ls := lines(s)
	block := sep == "\n" && !cell
	prevBlank, prevCode := true, false
	for i, l := range ls {
		if block && strings.HasPrefix(l, "    ") && (prevBlank || prevCode) {
			// An indented code block: Markdown shows it verbatim, so it is not escaped.
			prevBlank, prevCode = false, true
			continue
		}
		prevBlank, prevCode = strings.TrimSpace(l) == "", false
		var b strings.Builder
		for l != "" {
			start := strings.IndexByte(l, '`')
			if start < 0 {
				b.WriteString(mdEscape(l))
				break
			}
			b.WriteString(mdEscape(l[:start]))
			n := start
			for n < len(l) && l[n] == '`' {
				n++
			}
			fence := l[start:n]
			end := textsafe.ClosingFence(l[n:], len(fence))
			if end < 0 {
				b.WriteString(mdEscape(fence))
				l = l[n:]
				continue
			}
			span := fence + l[n:n+end] + fence
			if cell {
				span = strings.ReplaceAll(span, "|", `\|`)
			}
			b.WriteString(span)
			l = l[n+end+len(fence):]
		}
		ls[i] = b.String()
	}
	return strings.Join(ls, sep)
}

// mdCode formats one line as a code span, with a backtick fence longer than any run of
// backticks inside it. Text that holds a pipe is escaped instead, since GFM tables split
// cells on pipes even inside code spans.
func mdCode(s string) string {
	s = strings.Join(lines(s), " ")
	if s == "" {
		return ""
	}
	return textsafe.CodeSpan(s)
}

// mdID formats a check ID for a heading or a cell.
func mdID(id string) string {
	if strings.ContainsAny(id, "|`") {
		return mdText(id, " ")
	}
	return mdCode(id)
}

// renderMarkdown writes a report for tickets and pull requests: a summary, the failures by
// severity with their details and fixes, and a table of every other result. Text observed
// on the host is escaped; in catalog text (titles, remediation) `code spans` are kept and
// the rest is escaped (see mdCatalog).
func renderMarkdown(buf *bytes.Buffer, r *report.Report, opts Options) error {
	p := func(format string, args ...any) { fmt.Fprintf(buf, format, args...) }
	p("# server-audit report\n\n")

	h := r.Host
	host := "live system"
	if !h.Live {
		host = "offline root " + mdCode(h.Root)
		if h.Root == "" {
			host = "offline root"
		}
	}
	if h.Hostname != "" {
		host = mdText(h.Hostname, " ") + ", " + host
	}
	p("- **Host:** %s\n", host)
	if sys := systemLine(h); sys != "" {
		p("- **System:** %s\n", mdText(sys, " "))
	}
	if r.AuditID != "" {
		p("- **Audit:** %s\n", mdCode(r.AuditID))
	}
	p("- **Started:** %s\n", mdText(startedLine(r), " "))
	agent := toolName
	if r.Agent.Version != "" {
		agent += " " + r.Agent.Version
	}
	p("- **Agent:** %s\n\n", mdText(agent, " "))

	s := r.Summary
	scoreText := fmt.Sprintf("%d/100", s.Score)
	if !s.Scored {
		scoreText = "n/a"
	}
	c := s.Counts
	p("| Score | Grade | Checks | Pass | Fail | Skip | Error | Suppressed |\n")
	p("|------:|:-----:|-------:|-----:|-----:|-----:|------:|-----------:|\n")
	p("| %s | %s | %d | %d | %d | %d | %d | %d |\n\n", scoreText, mdText(s.Grade, " "), c.Total, c.Pass, c.Fail, c.Skip, c.Error, c.Suppressed)

	var failures, others []report.Result
	for _, res := range sortedResults(r.Results) {
		if res.Status == report.StatusFail {
			failures = append(failures, res)
		} else {
			others = append(others, res)
		}
	}

	p("## Failures (%d)\n\n", len(failures))
	if len(failures) == 0 {
		p("No check failed.\n\n")
	}
	if len(failures) > 0 {
		if parts := failedBySeverity(s); len(parts) > 0 {
			p("By severity: %s.\n\n", strings.Join(parts, ", "))
		}
	}
	for _, res := range failures {
		p("### %s: %s\n\n", mdID(res.ID), mdCatalog(titleOf(opts, res), " ", false))
		p("- **Severity:** %s\n", mdText(string(res.Severity), " "))
		p("- **Family:** %s\n", mdText(familyTitle(opts, familyOf(res)), " "))
		if res.Message != "" {
			p("- **Finding:** %s\n", mdText(res.Message, "<br>"))
		}
		p("\n")
		var details []string
		for _, d := range res.Details {
			for _, l := range lines(d) {
				details = append(details, mdCode(l))
			}
		}
		if len(details) > 0 {
			p("Details:\n\n")
			for _, d := range details {
				p("- %s\n", d)
			}
			p("\n")
		}
		if fix := strings.TrimSpace(remediationOf(opts, res)); fix != "" {
			p("**Fix:** %s\n\n", mdCatalog(fix, "\n", false))
		}
	}

	p("## Other results (%d)\n\n", len(others))
	if len(others) == 0 {
		p("None.\n")
		return nil
	}
	p("| Check | Title | Severity | Status | Reason / message |\n")
	p("|-------|-------|----------|--------|------------------|\n")
	for _, res := range others {
		note := mdText(reasonMessage(res.Reason, res.Message), "<br>")
		if res.Suppressed() {
			note = mdText(suppressionText(res), "<br>")
		}
		p("| %s | %s | %s | %s | %s |\n", mdID(res.ID), mdCatalog(titleOf(opts, res), "<br>", true),
			mdText(string(res.Severity), " "), mdText(statusOf(res), " "), note)
	}
	return nil
}
