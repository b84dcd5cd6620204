package system

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
)

// coreDumpsCheck is system.core-dumps: fs.suid_dumpable 0 passes; 2 passes only when
// kernel.core_pattern hands dumps to a pipe or socket handler or writes them to an absolute
// path (the kernel's own condition for "suidsafe" dumps); 1 fails. The pattern itself stays
// in the local details: only its kind is a fact.
type coreDumpsCheck struct{}

// ID implements checks.Check.
func (coreDumpsCheck) ID() string { return "system.core-dumps" }

// Run implements checks.Check.
func (coreDumpsCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	const dumpKey, patternKey = "fs.suid_dumpable", "kernel.core_pattern"
	dumpable, err := hostinfo.Sysctl(proc, dumpKey)
	if err != nil {
		return sysctlError(dumpKey, err), nil
	}
	pattern, perr := hostinfo.SysctlString(proc, patternKey)
	kind := ""
	if perr == nil {
		kind = corePatternKind(pattern)
	}
	var res checks.Result
	switch {
	case dumpable == 0:
		res = checks.Pass("%s = 0: setuid and other privileged processes never dump core", dumpKey)
	case dumpable == 2 && perr != nil:
		return sysctlError(patternKey, perr), nil
	case dumpable == 2 && (kind == "pipe" || kind == "socket" || kind == "absolute"):
		res = checks.Pass("%s = 2 with a %s core_pattern: privileged dumps go only to a root-controlled destination", dumpKey, kind)
	case dumpable == 2:
		res = checks.Fail("%s = 2 with a %s core_pattern, want 0 (or an absolute path or pipe handler)", dumpKey, kind)
	case dumpable == 1:
		res = checks.Fail("%s = 1: privileged processes dump core as their user, want 0", dumpKey)
	default:
		res = checks.Fail("%s = %d (not a documented value), want 0", dumpKey, dumpable)
	}
	res = res.Int("suid_dumpable", dumpable)
	if kind != "" {
		res = res.Enum("core_pattern_kind", kind).Detail("%s = %q", patternKey, pattern)
	}
	return res, nil
}

// corePatternKind classifies kernel.core_pattern the way the kernel reads its first
// character: "|" pipes the dump to a helper program, "@" sends it to a Unix socket (Linux
// 6.16 and later), "/" is an absolute file name; anything else is relative to the crashing
// process's working directory.
func corePatternKind(p string) string {
	switch {
	case p == "":
		return "empty"
	case strings.HasPrefix(p, "|"):
		return "pipe"
	case strings.HasPrefix(p, "@"):
		return "socket"
	case strings.HasPrefix(p, "/"):
		return "absolute"
	}
	return "relative"
}

// ptraceScopeCheck is system.ptrace-scope: kernel.yama.ptrace_scope 1 or more passes; 0
// fails; an absent key means the Yama LSM is not active, so classic ptrace permissions
// apply, which fails too.
type ptraceScopeCheck struct{}

// ID implements checks.Check.
func (ptraceScopeCheck) ID() string { return "system.ptrace-scope" }

// Run implements checks.Check.
func (ptraceScopeCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	const key = "kernel.yama.ptrace_scope"
	v, err := hostinfo.Sysctl(proc, key)
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Fail("%s is absent: the Yama LSM is not active, so a process can trace any other process of the same user", key).
			Bool("yama", false), nil
	}
	if err != nil {
		return checks.FromError(key, err), nil
	}
	meaning := map[int64]string{
		0: "classic: any process of the same user may be traced",
		1: "restricted: only descendants may be traced",
		2: "admin-only: tracing needs CAP_SYS_PTRACE",
		3: "no tracing at all",
	}[v]
	if meaning == "" {
		meaning = "undocumented value"
	}
	res := checks.Pass("%s = %d (%s)", key, v, meaning)
	if v < 1 {
		res = checks.Fail("%s = %d (%s), want 1 or more", key, v, meaning)
	}
	return res.Int("ptrace_scope", v).Bool("yama", true), nil
}
