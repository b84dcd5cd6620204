package reportgen_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/reportgen"
)

// t1 is when the first fixture audit was received.
func t1() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }

// t2 is when the second fixture audit was received, in another zone than UTC.
func t2() time.Time { return time.Date(2025, 3, 8, 12, 30, 15, 0, time.FixedZone("CET", 3600)) }

// Audit ids of the fixtures.
const (
	id1 = "01955a2e-6c00-7000-8000-000000000001"
	id2 = "01957569-1a40-7000-8000-000000000002"
)

// loadCatalog returns the embedded catalog.
func loadCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatalf("load catalog: %v", err)
	}
	return cat
}

// res builds a result.
func res(id string, status report.Status, sev catalog.Severity, reason report.Reason, facts map[string]any) reportgen.Result {
	return reportgen.Result{CheckID: id, Status: status, Severity: sev, Reason: reason, Facts: facts}
}

// scored sets the score and grade of in the way the agent computes them.
func scored(in reportgen.Input) reportgen.Input {
	s := computed(in.Results)
	in.Score, in.Grade = s.Score, s.Grade
	return in
}

// computed scores results with pkg/report's Summarize.
func computed(results []reportgen.Result) report.Summary {
	rs := make([]report.Result, 0, len(results))
	for _, r := range results {
		rs = append(rs, report.Result{ID: r.CheckID, Status: r.Status, Severity: r.Severity, Reason: r.Reason})
	}
	return report.Summarize(rs)
}

// debianHost is the host of the fixtures.
func debianHost() reportgen.Host {
	return reportgen.Host{OS: "linux", Arch: "amd64", Distro: "debian", DistroVersion: "12", Kernel: "6.1.0-18-amd64", Live: true}
}

// firstResults are the results of the first audit of the fixture server.
func firstResults() []reportgen.Result {
	const (
		pass, fail, skip, errs = report.StatusPass, report.StatusFail, report.StatusSkip, report.StatusError
	)
	return []reportgen.Result{
		res("ssh.permit-root-login", fail, catalog.SeverityHigh, "", map[string]any{"permit_root_login": "yes", "config_source": "sshd_t"}),
		res("ssh.password-authentication", fail, catalog.SeverityHigh, "", map[string]any{"password_authentication": true, "kbd_interactive_authentication": false, "use_pam": true, "config_source": "sshd_t"}),
		res("system.aslr", pass, catalog.SeverityHigh, "", map[string]any{"randomize_va_space": int64(2)}),
		res("system.core-dumps", fail, catalog.SeverityMedium, "", map[string]any{"suid_dumpable": int64(1), "core_pattern_kind": "relative"}),
		res("ports.datastores", fail, catalog.SeverityCritical, "", map[string]any{"exposed": int64(1), "ports": []int64{6379}, "services": []string{"redis"}, "scopes": []string{"public"}}),
		res("firewall.active", fail, catalog.SeverityHigh, "", map[string]any{"backends": []string{}, "managers": []string{}, "input_chains": int64(0)}),
		res("system.sysrq", fail, catalog.SeverityLow, "", map[string]any{"sysrq": int64(176)}),
		res("nginx.server-tokens", skip, catalog.SeverityLow, report.ReasonNotInstalled, nil),
		res("docker.icc", skip, catalog.SeverityLow, report.ReasonNotInstalled, nil),
		res("ssh.max-startups", skip, catalog.SeverityLow, report.ReasonSuppressed, nil),
		res("system.mac-enforcing", errs, catalog.SeverityMedium, report.ReasonPermissionDenied, nil),
		res("ports.inventory", fail, catalog.SeverityInfo, "", map[string]any{"total": int64(4), "ports": []int64{22, 80, 443, 6379}}),
		res("packages.auto-updates", pass, catalog.SeverityMedium, "", map[string]any{"enabled": true, "mechanism": "unattended-upgrades"}),
		res("ssh.ciphers", pass, catalog.SeverityHigh, "", map[string]any{"openssh_version": "9.2p1", "ciphers": []string{"chacha20-poly1305", "aes256-gcm"}}),
	}
}

// firstAudit is the first audit of the fixture server.
func firstAudit() reportgen.Input {
	return scored(reportgen.Input{
		AuditID:      id1,
		ReceivedAt:   t1(),
		AgentVersion: "1.4.0",
		Host:         debianHost(),
		Results:      firstResults(),
	})
}

// secondAudit is the next audit of the same server: two checks fixed, new failures (one was
// passing, one skipped, one absent), one failure now skipped, one now errored, one no longer
// reported, and failures that persist.
func secondAudit() reportgen.Input {
	const (
		pass, fail, skip, errs = report.StatusPass, report.StatusFail, report.StatusSkip, report.StatusError
	)
	prev := firstAudit()
	return scored(reportgen.Input{
		AuditID:      id2,
		ReceivedAt:   t2(),
		AgentVersion: "1.4.1",
		Host:         debianHost(),
		Results: []reportgen.Result{
			// Still failing.
			res("ssh.permit-root-login", fail, catalog.SeverityHigh, "", map[string]any{"permit_root_login": "prohibit-password", "config_source": "sshd_t"}),
			res("ports.datastores", fail, catalog.SeverityCritical, "", map[string]any{"exposed": int64(1), "ports": []int64{6379}, "services": []string{"redis"}, "scopes": []string{"public"}}),
			// Fixed.
			res("ssh.password-authentication", pass, catalog.SeverityHigh, "", map[string]any{"password_authentication": false, "config_source": "sshd_t"}),
			res("system.sysrq", pass, catalog.SeverityLow, "", map[string]any{"sysrq": int64(0)}),
			// New: was passing, was skipped, was absent.
			res("system.aslr", fail, catalog.SeverityHigh, "", map[string]any{"randomize_va_space": int64(0)}),
			res("nginx.server-tokens", fail, catalog.SeverityLow, "", map[string]any{"server_tokens": "on", "exposing_servers": int64(2), "config_source": "nginx_t"}),
			res("docker.socket-permissions", fail, catalog.SeverityCritical, "", map[string]any{"mode": int64(666), "other_writable": true, "sockets": int64(1)}),
			// Failed before, not re-checked now: skipped, errored; firewall.active is absent.
			res("system.core-dumps", skip, catalog.SeverityMedium, report.ReasonNotLive, nil),
			res("ports.inventory", errs, catalog.SeverityInfo, report.ReasonTimeout, nil),
			// Unchanged others.
			res("docker.icc", skip, catalog.SeverityLow, report.ReasonNotInstalled, nil),
			res("ssh.max-startups", skip, catalog.SeverityLow, report.ReasonSuppressed, nil),
			res("system.mac-enforcing", pass, catalog.SeverityMedium, "", map[string]any{"enforcing": true, "framework": "apparmor"}),
			res("packages.auto-updates", pass, catalog.SeverityMedium, "", map[string]any{"enabled": true}),
			res("ssh.ciphers", pass, catalog.SeverityHigh, "", nil),
		},
		Previous: &reportgen.Previous{
			AuditID:    prev.AuditID,
			ReceivedAt: prev.ReceivedAt,
			Score:      prev.Score,
			Grade:      prev.Grade,
			Results:    prev.Results,
		},
	})
}

// unknownAndFactsAudit has a check the catalog does not know (a newer agent) and facts of
// every type, including values as a JSON decoder returns them from a stored row.
func unknownAndFactsAudit() reportgen.Input {
	const (
		pass, fail = report.StatusPass, report.StatusFail
	)
	var decoded map[string]any
	if err := json.Unmarshal([]byte(`{"count": 2, "examined": 5, "containers": ["0f3c2a9e4b1d8c7a6e5f4d3c2b1a0918", "8e7d6c5b4a3928171605f4e3d2c1b0a9"]}`), &decoded); err != nil {
		panic(err)
	}
	return scored(reportgen.Input{
		AuditID:      id1,
		ReceivedAt:   t1(),
		AgentVersion: "2.0.0",
		Host:         reportgen.Host{OS: "linux", Arch: "arm64", Distro: "ubuntu", DistroVersion: "24.04", Kernel: "6.8.0-45-generic", Live: true},
		Results: []reportgen.Result{
			res("kernel.lockdown-mode", fail, catalog.SeverityHigh, "", map[string]any{
				"mode": "none", "supported": true, "level": int64(0),
			}),
			res("system.future-check", pass, catalog.SeverityLow, "", nil),
			res("packages.vulnerable-versions", fail, catalog.SeverityCritical, "", map[string]any{
				"vulnerable":         int64(2),
				"packages":           []string{"openssl", "sudo"},
				"cves":               []string{"cve-2024-5535", "cve-2025-32463"},
				"installed_versions": []string{"3.0.11-1~deb12u2", "1.9.13p3-1+deb12u1"},
				"fixed_versions":     []string{"3.0.15-1~deb12u1", "1.9.13p3-1+deb12u2"},
				"data_version":       "2025.02.1",
				"data_age_days":      int64(12),
				"distro":             "debian",
			}),
			res("docker.privileged-containers", fail, catalog.SeverityCritical, "", decoded),
			res("ports.cleartext-services", fail, catalog.SeverityHigh, "", map[string]any{
				"exposed": json.Number("1"), "ports": []any{float64(21), float64(23)}, "services": []any{"ftp", "telnet"}, "processes": []string{},
			}),
			res("ssh.host-key-permissions", fail, catalog.SeverityHigh, "", map[string]any{
				"group_readable": false, "other_access": true, "not_root_owned": false, "host_keys": int64(3), "config_source": "sshd_t",
			}),
		},
	})
}

// emptyAudit has no results at all.
func emptyAudit() reportgen.Input {
	return scored(reportgen.Input{
		AuditID:      id1,
		ReceivedAt:   t1(),
		AgentVersion: "1.4.0",
		Host:         reportgen.Host{OS: "linux", Distro: "alpine", DistroVersion: "3.20.3"},
	})
}

// mismatchAudit carries a score that the results do not give: an agent that scored
// differently (or a tampered payload).
func mismatchAudit() reportgen.Input {
	in := secondAudit()
	in.Score, in.Grade = 97, "A"
	return in
}
