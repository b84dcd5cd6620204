package format

import (
	"strings"
	"testing"
)

// splitCells splits a GFM table row on pipes that are not escaped.
func splitCells(row string) []string {
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row):
			cur.WriteByte(row[i])
			cur.WriteByte(row[i+1])
			i++
		case row[i] == '|':
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(cells, cur.String())
}

func TestMarkdown(t *testing.T) {
	cat := testCatalog(t)
	out := string(render(t, "markdown", fullReport(t, cat), Options{Catalog: cat}))
	for _, want := range []string{
		"# server-audit report\n",
		"| 14/100 | F | 11 | 2 | 5 | 2 | 1 | 1 |\n",
		"## Failures (5)\n",
		"### `system.aslr`: ASLR is fully enabled\n",
		"- **Severity:** critical\n",
		"- `/proc/sys/kernel/randomize_va_space: 0`\n",
		"**Fix:** Add this line to /etc/ssh/sshd_config.d/50-root.conf:\n\n    PermitRootLogin no\n\nthen reload sshd with `systemctl reload ssh`. Keep a \\<user\\> with sudo rights first.\n",
		"## Other results (6)\n",
		"| `system.suid-dumpable` | Set-uid programs do not dump core | medium | suppressed | Accepted risk: \\<crash\\> dumps \\& triage \\| see \"OPS-12\" (until 2026-12-31) |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Failures are ordered by severity.
	order := []string{"`system.aslr`", "`ssh.permit-root-login`", "`ssh.password-auth`", "`system.core-dumps`", "`system.login-banner`"}
	last := -1
	for _, id := range order {
		i := strings.Index(out, "### "+id)
		if i <= last {
			t.Errorf("failure %s out of severity order", id)
		}
		last = i
	}
	// The escaped message stays on one line with its markup neutralised.
	if !strings.Contains(out, "- **Finding:** PasswordAuthentication \"yes\" in \\<Match User='ci'\\> \\& \"a \\| b\"<br>second line: colour \\\\x1b\\[31mred") {
		t.Errorf("message is not escaped as expected:\n%s", out)
	}
	// Every table row has the same number of cells as its header.
	inTable, want := false, 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		n := len(splitCells(line))
		if !inTable {
			inTable, want = true, n
			continue
		}
		if n != want {
			t.Errorf("table row has %d cells, header %d: %s", n-2, want-2, line)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a_b sshd_config", "a_b sshd_config"},
		{"_lead trail_ *x*", `\_lead trail\_ \*x\*`},
		{"<b>&amp; | `c` $x #h ~s~ [l](u) \\", "\\<b\\>\\&amp; \\| \\`c\\` \\$x \\#h \\~s\\~ \\[l\\](u) \\\\"},
	} {
		if got := mdText(tc.in, " "); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		cell bool
		want string
	}{
		{"run `sysctl --system` as <root>", false, "run `sysctl --system` as \\<root\\>"},
		{"pipe `a | b` here | there", true, "pipe `a \\| b` here \\| there"},
		{"unclosed ` tick", false, "unclosed \\` tick"},
		{"double ``a ` b`` ok", false, "double ``a ` b`` ok"},
		{"two\nlines", true, "two<br>lines"},
	} {
		if got := mdCatalog(tc.in, "<br>", tc.cell); got != tc.want {
			t.Errorf("mdCatalog(%q, %v) = %q, want %q", tc.in, tc.cell, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"plain":      "`plain`",
		"a `b` c":    "``a `b` c``",
		"`edge`":     "`` `edge` ``",
		"x ``y`` z":  "```x ``y`` z```",
		"esc \x1b[m": "`esc \\x1b[m`",
	} {
		if got := mdCode(in); got != want {
			t.Errorf("mdCode(%q) = %q, want %q", in, got, want)
		}
	}
}
