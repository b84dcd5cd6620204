package format

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// nastyMessage needs escaping in every format: XML and Markdown markup, a table pipe,
// quotes, a newline, a tab, a carriage return and ANSI escape sequences.
const nastyMessage = "PasswordAuthentication \"yes\" in <Match User='ci'> & \"a | b\"\n" +
	"second line:\tcolour \x1b[31mred\x1b[0m, back`tick` $HOME *star* [link](x) #tag\r"

// testCatalog parses the test catalog in testdata/catalog.yaml.
func testCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	data, err := os.ReadFile("testdata/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// result builds a result with title, family and severity from the catalog, and the
// remediation for failures, as the scanner does.
func result(t testing.TB, cat *catalog.Catalog, id string, status report.Status, reason report.Reason, message string) report.Result {
	t.Helper()
	e, ok := cat.Lookup(id)
	if !ok {
		t.Fatalf("test catalog has no %s", id)
	}
	res := report.Result{
		ID:         e.ID,
		Family:     e.Family(),
		Title:      e.Title,
		Severity:   e.Severity,
		Status:     status,
		Reason:     reason,
		Message:    message,
		DurationMS: 1.25,
	}
	if status == report.StatusFail {
		res.Remediation = e.Remediation
	}
	return res
}

// fullReport covers every status, every severity, a suppressed result, details, facts and
// a message that needs escaping. Results are in scan order, not display order.
func fullReport(t testing.TB, cat *catalog.Catalog) *report.Report {
	t.Helper()
	var results []report.Result
	add := func(res report.Result, edit func(*report.Result)) {
		if edit != nil {
			edit(&res)
		}
		results = append(results, res)
	}
	add(result(t, cat, "ssh.max-auth-tries", report.StatusPass, "", "MaxAuthTries is 3"), func(r *report.Result) {
		r.Facts = report.Facts{"max_auth_tries": 3}
	})
	add(result(t, cat, "system.core-dumps", report.StatusFail, "", "core dumps are not limited"), func(r *report.Result) {
		r.Details = []string{"/etc/security/limits.conf: no hard core limit"}
	})
	add(result(t, cat, "system.aslr", report.StatusFail, "", "kernel.randomize_va_space is 0 (disabled)"), func(r *report.Result) {
		r.Details = []string{
			"/proc/sys/kernel/randomize_va_space: 0",
			"/etc/sysctl.d/99-local.conf:3: kernel.randomize_va_space = 0",
		}
		r.Facts = report.Facts{"randomize_va_space": 0}
		r.DurationMS = 0.5
	})
	add(result(t, cat, "ssh.password-auth", report.StatusFail, "", nastyMessage), func(r *report.Result) {
		r.Details = []string{
			"/etc/ssh/sshd_config.d/50-ci.conf:7: Match User ci | `x` <b>&amp;",
			"multi\nline \x1b]0;title\x07 detail",
		}
		r.Facts = report.Facts{"password_authentication": true}
	})
	add(result(t, cat, "system.login-banner", report.StatusFail, "", "/etc/issue.net is empty"), nil)
	add(result(t, cat, "ssh.permit-root-login", report.StatusFail, "", "PermitRootLogin is yes"), func(r *report.Result) {
		r.Details = []string{"/etc/ssh/sshd_config:32: PermitRootLogin yes"}
		r.Facts = report.Facts{"permit_root_login": "yes"}
	})
	add(result(t, cat, "system.ptrace-scope", report.StatusPass, "", ""), nil)
	add(result(t, cat, "docker.live-restore", report.StatusSkip, report.ReasonNotInstalled, "Docker is not installed"), nil)
	add(result(t, cat, "docker.socket-perms", report.StatusError, report.ReasonTimeout, "the Docker API did not answer within 5s"), func(r *report.Result) {
		r.Details = []string{"GET /var/run/docker.sock /v1.43/info"}
		r.DurationMS = 5000
	})
	add(result(t, cat, "system.suid-dumpable", report.StatusSkip, report.ReasonSuppressed, ""), func(r *report.Result) {
		r.Suppression = &report.Suppression{Reason: "Accepted risk: <crash> dumps & triage | see \"OPS-12\"", Until: "2026-12-31"}
		r.DurationMS = 0
	})
	add(result(t, cat, "system.kernel-lockdown", report.StatusSkip, report.ReasonNotLive, "needs the running system"), nil)
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		AuditID:       "01900000-0000-7000-8000-000000000000",
		Agent:         report.Agent{Version: "1.2.3", Commit: "abcdef0"},
		StartedAt:     time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		DurationMS:    842,
		Host: report.Host{
			Hostname:      "web-1",
			Root:          "/",
			Live:          true,
			OS:            "linux",
			Arch:          "amd64",
			Distro:        "debian",
			DistroVersion: "12",
			DistroName:    "Debian GNU/Linux 12 (bookworm)",
			Kernel:        "6.1.0-18-amd64",
		},
		Summary: report.Summarize(results),
		Results: results,
	}
}

// offlineReport is a small audit of an offline root: no hostname, no kernel, nothing
// failed, nothing scored.
func offlineReport(t testing.TB, cat *catalog.Catalog) *report.Report {
	t.Helper()
	results := []report.Result{
		result(t, cat, "system.aslr", report.StatusSkip, report.ReasonNotLive, "needs the running system"),
		result(t, cat, "system.login-banner", report.StatusPass, "", "/etc/issue.net states the terms of use"),
	}
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		AuditID:       "01900000-0000-7000-8000-000000000001",
		Agent:         report.Agent{Version: "1.2.3"},
		StartedAt:     time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		DurationMS:    12,
		Host:          report.Host{Root: "/mnt/image", OS: "linux", Distro: "alpine", DistroVersion: "3.20.1", DistroName: "Alpine Linux v3.20"},
		Summary:       report.Summarize(results),
		Results:       results,
	}
}

// render runs Write and fails the test on error.
func render(t testing.TB, name string, r *report.Report, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, name, r, opts); err != nil {
		t.Fatalf("Write(%s): %v", name, err)
	}
	return buf.Bytes()
}
