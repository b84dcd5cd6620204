package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
	"github.com/securecodehq/server-audit/pkg/report"
)

// kernelChecks returns the sysctl-based checks in report order: process and kernel
// hardening first, then the network stack.
//
// Each check reads /proc/sys through host.Host.Proc, so it needs the running system; an
// offline root skips with not_live. A key the running kernel does not provide skips with
// not_supported unless the check documents otherwise (a missing Yama key fails
// system.ptrace-scope; missing IPv6 keys narrow a network check to IPv4).
func kernelChecks() []checks.Check {
	return []checks.Check{
		sysctlCheck{
			id: "system.aslr",
			keys: []sysctlRule{{
				key: "kernel.randomize_va_space", fact: "randomize_va_space", cond: equals(2),
				meaning: named(map[int64]string{
					0: "randomisation disabled",
					1: "partial: stack, mmap and vDSO randomised, heap not",
					2: "full randomisation",
				}),
			}},
		},
		coreDumpsCheck{},
		ptraceScopeCheck{},
		sysctlCheck{
			id: "system.kernel-pointers",
			keys: []sysctlRule{{
				key: "kernel.kptr_restrict", fact: "kptr_restrict", cond: atLeast(1),
				meaning: named(map[int64]string{
					0: "kernel addresses visible to every user",
					1: "hidden from users without CAP_SYSLOG",
					2: "hidden from every user",
				}),
			}},
		},
		sysctlCheck{
			id: "system.dmesg-restrict",
			keys: []sysctlRule{{
				key: "kernel.dmesg_restrict", fact: "dmesg_restrict", cond: equals(1),
				meaning: named(map[int64]string{
					0: "any user can read the kernel log",
					1: "reading the kernel log needs CAP_SYSLOG",
				}),
			}},
		},
		sysctlCheck{
			id: "system.unprivileged-bpf",
			keys: []sysctlRule{{
				key: "kernel.unprivileged_bpf_disabled", fact: "unprivileged_bpf_disabled", cond: atLeast(1),
				meaning: named(map[int64]string{
					0: "unprivileged bpf() allowed",
					1: "unprivileged bpf() disabled until reboot",
					2: "unprivileged bpf() disabled, an admin may re-enable it",
				}),
			}},
			info: []sysctlRule{{key: "net.core.bpf_jit_harden", fact: "bpf_jit_harden"}},
		},
		sysctlCheck{
			id: "system.link-protections",
			keys: []sysctlRule{
				{key: "fs.protected_hardlinks", fact: "protected_hardlinks", cond: equals(1), meaning: onOff},
				{key: "fs.protected_symlinks", fact: "protected_symlinks", cond: equals(1), meaning: onOff},
			},
		},
		sysctlCheck{
			id: "system.fifo-regular-protections",
			keys: []sysctlRule{
				{key: "fs.protected_fifos", fact: "protected_fifos", cond: atLeast(1), meaning: stickyProtection},
				{key: "fs.protected_regular", fact: "protected_regular", cond: atLeast(1), meaning: stickyProtection},
			},
		},
		sysctlCheck{
			id: "system.sysrq",
			keys: []sysctlRule{{
				key: "kernel.sysrq", fact: "sysrq", cond: equals(0),
				meaning: func(v int64) string {
					switch v {
					case 0:
						return "magic SysRq disabled"
					case 1:
						return "every SysRq function enabled"
					}
					return "bitmask of enabled SysRq functions"
				},
			}},
		},
		sysctlCheck{
			id: "system.perf-events",
			keys: []sysctlRule{{
				key: "kernel.perf_event_paranoid", fact: "perf_event_paranoid", cond: atLeast(2),
				meaning: func(v int64) string {
					switch {
					case v < 0:
						return "no restriction"
					case v == 0:
						return "system-wide events open to unprivileged users"
					case v == 1:
						return "kernel profiling open to unprivileged users"
					case v == 2:
						return "unprivileged users measure their own user space only"
					}
					return "unprivileged perf_event_open disabled by a distribution patch"
				},
			}},
		},
		ipForwardingCheck{},
		acceptRedirectsCheck{},
		sendRedirectsCheck{},
		sysctlCheck{
			id: "system.source-routing",
			keys: []sysctlRule{
				{key: "net.ipv4.conf.all.accept_source_route", fact: "ipv4_all", cond: atMost(0)},
				{key: "net.ipv4.conf.default.accept_source_route", fact: "ipv4_default", cond: atMost(0)},
				{key: "net.ipv6.conf.all.accept_source_route", fact: "ipv6_all", cond: atMost(0), optional: true},
				{key: "net.ipv6.conf.default.accept_source_route", fact: "ipv6_default", cond: atMost(0), optional: true},
			},
		},
		reversePathFilter(),
		sysctlCheck{
			id: "system.syn-cookies",
			keys: []sysctlRule{{
				key: "net.ipv4.tcp_syncookies", fact: "tcp_syncookies", cond: atLeast(1),
				meaning: named(map[int64]string{
					0: "SYN cookies off",
					1: "SYN cookies when the SYN backlog overflows",
					2: "SYN cookies always",
				}),
			}},
		},
		logMartians(),
		sysctlCheck{
			id: "system.icmp-broadcasts",
			keys: []sysctlRule{
				{key: "net.ipv4.icmp_echo_ignore_broadcasts", fact: "icmp_echo_ignore_broadcasts", cond: equals(1), meaning: onOff},
				{key: "net.ipv4.icmp_ignore_bogus_error_responses", fact: "icmp_ignore_bogus_error_responses", cond: equals(1), meaning: onOff},
			},
		},
	}
}

// sysctlCheck is a check over integer sysctls that must each meet a condition; it serves
// every check whose verdict needs nothing but the keys' own values. Each key is sent as an
// int fact.
type sysctlCheck struct {
	id string
	// keys must all hold for a pass.
	keys []sysctlRule
	// info keys are reported as facts when present and never affect the verdict.
	info []sysctlRule
}

// sysctlRule is one key of a sysctlCheck.
type sysctlRule struct {
	key  string
	fact string
	cond condition
	// meaning, when set, explains a value in the message ("full randomisation").
	meaning func(int64) string
	// optional keys may be absent (IPv6 disabled): they are then left out of the verdict
	// instead of skipping the check.
	optional bool
}

// condition is a threshold on a sysctl value, with its wording for messages.
type condition struct {
	want string
	ok   func(int64) bool
}

// equals is satisfied by exactly n.
func equals(n int64) condition {
	return condition{want: fmt.Sprintf("want %d", n), ok: func(v int64) bool { return v == n }}
}

// atLeast is satisfied by n or more.
func atLeast(n int64) condition {
	return condition{want: fmt.Sprintf("want %d or more", n), ok: func(v int64) bool { return v >= n }}
}

// atMost is satisfied by n or less.
func atMost(n int64) condition {
	return condition{want: fmt.Sprintf("want %d or less", n), ok: func(v int64) bool { return v <= n }}
}

// named explains the values listed in m and nothing else.
func named(m map[int64]string) func(int64) string {
	return func(v int64) string { return m[v] }
}

// onOff explains a boolean sysctl.
func onOff(v int64) string {
	if v == 0 {
		return "off"
	}
	return "on"
}

// stickyProtection explains fs.protected_fifos and fs.protected_regular.
func stickyProtection(v int64) string {
	switch v {
	case 0:
		return "off"
	case 1:
		return "world-writable sticky directories"
	}
	return "world- and group-writable sticky directories"
}

// ID implements checks.Check.
func (c sysctlCheck) ID() string { return c.id }

// Run implements checks.Check.
func (c sysctlCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	type fact struct {
		key string
		v   int64
	}
	var (
		facts  []fact
		parts  []string
		absent []string
		failed bool
	)
	for _, r := range c.keys {
		v, err := hostinfo.Sysctl(proc, r.key)
		if errors.Is(err, fs.ErrNotExist) && r.optional {
			absent = append(absent, r.key)
			continue
		}
		if err != nil {
			return sysctlError(r.key, err), nil
		}
		facts = append(facts, fact{r.fact, v})
		part := fmt.Sprintf("%s = %d", r.key, v)
		if r.meaning != nil {
			if m := r.meaning(v); m != "" {
				part += " (" + m + ")"
			}
		}
		if !r.cond.ok(v) {
			failed = true
			part += ", " + r.cond.want
		}
		parts = append(parts, part)
	}
	for _, r := range c.info {
		v, err := hostinfo.Sysctl(proc, r.key)
		if err == nil {
			facts = append(facts, fact{r.fact, v})
			parts = append(parts, fmt.Sprintf("%s = %d", r.key, v))
		}
	}
	msg := strings.Join(parts, "; ")
	res := checks.Pass("%s", msg)
	if failed {
		res = checks.Fail("%s", msg)
	}
	for _, f := range facts {
		res = res.Int(f.key, f.v)
	}
	for _, key := range absent {
		res = res.Detail("%s is absent (IPv6 disabled); not evaluated", key)
	}
	return res, nil
}

// sysctlError turns a failed read of a required key into a result: an absent key means the
// running kernel lacks the feature (not_supported); anything else is classified by
// checks.FromError.
func sysctlError(key string, err error) checks.Result {
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Skip(report.ReasonNotSupported, "%s is absent: the running kernel does not provide it", key)
	}
	return checks.FromError("read sysctl "+key, err)
}
