package reportgen

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/securecodehq/server-audit/pkg/textsafe"
)

// mdSpecial lists the characters that are markup in GitHub-flavoured Markdown inline text.
// Trusted prose (the report's words, catalog text) escapes only these, to stay readable.
const mdSpecial = "\\`*_[]<>&|~$#"

// isPlainValue reports whether s is made only of letters, digits and ".+~:_-": the version
// grammar of the payload, which no Markdown or HTML construct can be made of.
func isPlainValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(".+~:_-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// mdValue formats a payload value: a code span when it is plain (isPlainValue), otherwise
// text with every ASCII punctuation character backslash-escaped, which CommonMark renders as
// the character itself. Either form is inert: no HTML, no link, no emphasis, no table cell
// break.
func mdValue(s string) string {
	if s == "" {
		return ""
	}
	if isPlainValue(s) {
		return "`" + s + "`"
	}
	var b strings.Builder
	for _, c := range s {
		if c < 0x80 && unicode.IsPunct(c) || c < 0x80 && unicode.IsSymbol(c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mdProse escapes trusted prose: the Markdown special characters are backslash-escaped,
// except an underscore between two letters or digits, which cannot start emphasis and
// keeps names like sshd_config readable.
func mdProse(s string) string {
	if !strings.ContainsAny(s, mdSpecial) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(mdSpecial, c) < 0 {
			b.WriteByte(c)
			continue
		}
		if c == '_' && i > 0 && i+1 < len(s) {
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[i+1:])
			if isAlnum(before) && isAlnum(after) {
				b.WriteByte(c)
				continue
			}
		}
		b.WriteByte('\\')
		b.WriteByte(c)
	}
	return b.String()
}

// isAlnum reports whether c is a letter or digit.
func isAlnum(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// mdCodeSpan formats catalog code as a code span, with a fence longer than any run of
// backticks inside it. In a table cell, pipes are escaped as GFM requires.
func mdCodeSpan(s string, cell bool) string {
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return textsafe.CodeSpan(s)
}

// mdSegs formats a line of segments; cell is true inside a table cell.
func mdSegs(segs []seg, cell bool) string {
	var b strings.Builder
	for _, s := range segs {
		switch {
		case s.Code:
			b.WriteString(mdCodeSpan(s.Text, cell))
		case s.Value:
			b.WriteString(mdValue(s.Text))
		default:
			b.WriteString(mdProse(s.Text))
		}
	}
	return b.String()
}

// mdLineStart escapes what would make a line of a paragraph start a block: a list marker
// ("-", "+", "1." or "1)"), a setext underline ("=") or a thematic break.
func mdLineStart(l string) string {
	if l == "" {
		return l
	}
	switch l[0] {
	case '-', '+', '=':
		return `\` + l
	}
	i := 0
	for i < len(l) && i < 10 && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i < len(l) && (l[i] == '.' || l[i] == ')') {
		return l[:i] + `\` + l[i:]
	}
	return l
}

// mdBlocks writes catalog text: paragraphs keep their line breaks, code blocks are indented
// by four spaces and shown verbatim.
func mdBlocks(b *strings.Builder, blocks []block) {
	for _, bl := range blocks {
		if bl.Code {
			for _, l := range bl.CodeLines {
				if l == "" {
					b.WriteString("\n")
					continue
				}
				b.WriteString("    " + l + "\n")
			}
			b.WriteString("\n")
			continue
		}
		for _, l := range bl.Lines {
			b.WriteString(mdLineStart(mdSegs(l, false)) + "\n")
		}
		b.WriteString("\n")
	}
}

// mdTitle formats a check's title, or a note for a check the catalog does not know.
func mdTitle(title []seg, known bool, cell bool) string {
	if !known {
		return "*not in this server's catalog*"
	}
	return mdSegs(title, cell)
}

// mdChanges writes a "what changed" list.
func mdChanges(b *strings.Builder, heading string, rows []changeRow, intro string) {
	fmt.Fprintf(b, "**%s (%d)**\n\n", heading, len(rows))
	if len(rows) == 0 {
		b.WriteString("None.\n\n")
		return
	}
	if intro != "" {
		b.WriteString(intro + "\n\n")
	}
	for _, r := range rows {
		fmt.Fprintf(b, "- %s (%s): %s", mdValue(r.ID), mdValue(r.Severity), mdTitle(r.Title, r.Known, false))
		if len(r.Note) > 0 {
			b.WriteString(" — " + mdSegs(r.Note, false))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// renderMarkdown renders the report as GitHub-flavoured Markdown.
func renderMarkdown(v *view) string {
	var b strings.Builder
	b.Grow(4096 + 160*v.rows() + 1200*v.FailureCount)
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# Audit %s, received %s\n\n", mdValue(v.AuditID), v.Received)
	p("- **Host:** %s\n", mdSegs(v.Host, false))
	if v.Agent != "" {
		p("- **Agent:** server-audit %s\n", mdValue(v.Agent))
	}
	p("- **Score:** %s", mdSegs(v.Score, false))
	if len(v.Change) > 0 {
		p(" (%s)", mdSegs(v.Change, false))
	}
	p("\n\n")
	if len(v.Mismatch) > 0 {
		p("> **Score mismatch:** %s\n\n", mdSegs(v.Mismatch, false))
	}

	p("## Summary\n\n")
	p("| Status | Checks | Note |\n|--------|-------:|------|\n")
	for _, c := range v.Counts {
		p("| %s | %d | %s |\n", mdSegs(c.Label, true), c.N, mdSegs(c.Note, true))
	}
	p("| **Total** | **%d** | |\n\n", v.Total)
	p("| Severity | Failed |\n|----------|-------:|\n")
	for _, c := range v.Severities {
		p("| %s | %d |\n", mdSegs(c.Label, true), c.N)
	}
	p("\n")

	p("## What changed\n\n")
	if v.First {
		p("This is the first audit of this server: there is nothing to compare with yet.\n\n")
	} else {
		p("%s\n\n", mdSegs(v.Previous, false))
		mdChanges(&b, "New failures", v.NewFailures, "")
		mdChanges(&b, "Fixed", v.Fixed, "")
		if len(v.NotRechecked) > 0 {
			mdChanges(&b, "Failed last time, not re-checked now", v.NotRechecked,
				"These checks failed in the previous audit and were not evaluated this time, so they may still fail; they are neither fixed nor new.")
		}
	}

	p("## Failures (%d)\n\n", v.FailureCount)
	if v.FailureCount == 0 {
		p("No check failed.\n\n")
	}
	for _, g := range v.Groups {
		p("### %s (%d)\n\n", mdSegs(g.Label, false), len(g.Findings))
		for _, f := range g.Findings {
			b.WriteString("#### " + mdValue(f.ID) + ": " + mdTitle(f.Title, f.Known, false))
			if f.New {
				b.WriteString(" (new)")
			}
			b.WriteString("\n\n- **Severity:** " + mdValue(f.Severity) + "\n")
			if f.Family != "" {
				b.WriteString("- **Family:** " + mdProse(f.Family) + "\n")
			}
			if f.New {
				b.WriteString("- **New:** this check did not fail in the previous audit\n")
			}
			if len(f.Facts) > 0 {
				b.WriteString("- **Facts:**\n")
				for _, ft := range f.Facts {
					b.WriteString("  - " + mdValue(ft.Key) + ": " + mdFact(ft) + "\n")
				}
			}
			b.WriteString("\n")
			if !f.Known {
				b.WriteString("This check is not in the server's catalog (the agent is probably newer than the server), so there is no description or fix to show.\n\n")
				continue
			}
			b.WriteString("**Why it matters:**\n\n")
			mdBlocks(&b, f.Rationale)
			b.WriteString("**How to fix:**\n\n")
			mdBlocks(&b, f.Remediation)
		}
	}

	p("## Other results (%d)\n\n", len(v.Others))
	if len(v.Others) == 0 {
		p("None.\n")
		return b.String()
	}
	p("| Check | Title | Severity | Status | Reason |\n|-------|-------|----------|--------|--------|\n")
	for _, o := range v.Others {
		b.WriteString("| " + mdValue(o.ID) + " | " + mdTitle(o.Title, o.Known, true) + " | " + mdValue(o.Severity) + " | " + mdValue(o.Status) + " | " + mdValue(o.Reason) + " |\n")
	}
	return b.String()
}

// mdFact formats a fact's value: its items as values separated by commas.
func mdFact(f fact) string {
	if f.List && len(f.Items) == 0 {
		return "*(empty list)*"
	}
	items := make([]string, len(f.Items))
	for i, it := range f.Items {
		items[i] = mdValue(it)
		if it == "" {
			items[i] = "*(empty)*"
		}
	}
	return strings.Join(items, ", ")
}
