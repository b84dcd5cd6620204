package format

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTableColor(t *testing.T) {
	cat := testCatalog(t)
	r := fullReport(t, cat)
	plain := render(t, "table", r, Options{Catalog: cat})
	if bytes.IndexByte(plain, 0x1b) >= 0 {
		t.Errorf("table without colour contains an ESC byte")
	}
	colored := render(t, "table", r, Options{Catalog: cat, Color: true})
	if !bytes.Contains(colored, []byte("\x1b[")) {
		t.Errorf("table with colour contains no ANSI sequence")
	}
	// The message's own escape sequences never reach the terminal, even with colour on.
	if bytes.Contains(colored, []byte("\x1b[31mred")) || bytes.Contains(colored, []byte("\x1b]0;")) {
		t.Errorf("host text's escape sequences reached the coloured table")
	}
	if !bytes.Contains(plain, []byte(`\x1b[31mred`)) {
		t.Errorf("host text's escape sequence is not shown as \\x1b")
	}
	// Stripping colour gives the plain table, so wrapping does not depend on colour.
	if got := stripANSI(string(colored)); got != string(plain) {
		t.Errorf("coloured table without its colour differs from the plain table:\n%s", got)
	}
}

// stripANSI removes SGR sequences.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := strings.IndexByte(s[i:], 'm')
			i += j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestTableOrder(t *testing.T) {
	cat := testCatalog(t)
	out := string(render(t, "table", fullReport(t, cat), Options{Catalog: cat}))
	pos := func(s string) int {
		t.Helper()
		i := strings.Index(out, s)
		if i < 0 {
			t.Fatalf("table lacks %q:\n%s", s, out)
		}
		return i
	}
	// Header.
	for _, want := range []string{"web-1, live system", "Debian GNU/Linux 12 (bookworm), kernel 6.1.0-18-amd64",
		"Score 14/100 (grade F)", "11 checks: 2 pass, 5 fail, 2 skip, 1 error, 1 suppressed"} {
		pos(want)
	}
	// Families in catalog order, each under its title.
	system, ssh, docker := pos("Kernel and accounts (system)"), pos("SSH server (ssh)"), pos("Docker (docker)")
	if !(system < ssh && ssh < docker) {
		t.Errorf("families out of catalog order")
	}
	// Within a family: failures by severity, then skips, then passes.
	critical, low, info := pos("FAIL   critical  system.aslr"), pos("FAIL   low       system.core-dumps"), pos("FAIL   info      system.login-banner")
	skip, pass := pos("SKIP   low       system.kernel-lockdown"), pos("PASS   medium    system.ptrace-scope")
	if !(system < critical && critical < low && low < info && info < skip && skip < pass && pass < ssh) {
		t.Errorf("system family out of order: critical %d, low %d, info %d, skip %d, pass %d", critical, low, info, skip, pass)
	}
	high, medium, sshPass := pos("FAIL   high      ssh.permit-root-login"), pos("FAIL   medium    ssh.password-auth"), pos("PASS   low       ssh.max-auth-tries")
	if !(ssh < high && high < medium && medium < sshPass && sshPass < docker) {
		t.Errorf("ssh family out of order")
	}
	errPos, skipPos := pos("ERROR  high      docker.socket-perms"), pos("SKIP   medium    docker.live-restore")
	if !(docker < errPos && errPos < skipPos) {
		t.Errorf("docker family: error should precede skip")
	}
	pos("timeout: the Docker API did not answer within 5s")
	pos("not_installed: Docker is not installed")
	// A failure shows its message, indented details and fix.
	pos("      kernel.randomize_va_space is 0 (disabled)\n        /proc/sys/kernel/randomize_va_space: 0\n")
	pos("      Fix: Add this line to /etc/ssh/sshd_config.d/50-root.conf:\n\n               PermitRootLogin no\n\n" +
		"           then reload sshd with `systemctl reload ssh`. Keep a <user> with sudo rights first.\n")
	// Suppressed checks come last with the user's reason, not among their family.
	supp := pos("Suppressed (1)")
	if strings.LastIndex(out, "system.suid-dumpable") < supp || strings.Count(out, "system.suid-dumpable") != 1 {
		t.Errorf("suppressed check not only in the suppressed section")
	}
	reason := pos(`Reason: Accepted risk: <crash> dumps & triage | see "OPS-12" (until 2026-12-31)`)
	if supp < docker || reason < supp {
		t.Errorf("suppressed section is not at the end")
	}
}

func TestTableWidth(t *testing.T) {
	cat := testCatalog(t)
	out := string(render(t, "table", fullReport(t, cat), Options{Catalog: cat}))
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > tableWidth {
			t.Errorf("line of %d columns (max %d): %q", n, tableWidth, l)
		}
	}
	// The long remediation of system.aslr is wrapped with a hanging indent.
	if !strings.Contains(out, "\n      Fix: Set kernel.randomize_va_space = 2 in a file under /etc/sysctl.d/, for example\n           /etc/sysctl.d/60-aslr.conf,") {
		t.Errorf("long fix is not wrapped as expected:\n%s", out)
	}
}

func TestTableOffline(t *testing.T) {
	cat := testCatalog(t)
	out := string(render(t, "table", offlineReport(t, cat), Options{Catalog: cat}))
	for _, want := range []string{"Host      offline root /mnt/image\n", "System    Alpine Linux v3.20\n", "Score n/a (grade N/A)"} {
		if !strings.Contains(out, want) {
			t.Errorf("offline table lacks %q:\n%s", want, out)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		line        string
		first, rest int
		want        []string
	}{
		{"short", 10, 10, []string{"short"}},
		{"aaa bbb ccc", 7, 7, []string{"aaa bbb", "ccc"}},
		{"aaa bbb ccc", 3, 11, []string{"aaa", "bbb ccc"}},
		{"averyveryverylongword x", 5, 5, []string{"averyveryverylongword", "x"}},
	} {
		got := wrap(tc.line, tc.first, tc.rest)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %d, %d) = %q, want %q", tc.line, tc.first, tc.rest, got, tc.want)
		}
	}
}
