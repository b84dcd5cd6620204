package system

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

func platformChecks() []checks.Check {
	return []checks.Check{
		mountOptions{id: "system.tmp-mount", point: "/tmp", requireSeparate: true},
		mountOptions{id: "system.shm-mount", point: "/dev/shm"},
		macEnforcing{},
		cpuMitigations{},
		timeSync{},
		unusedFilesystems{},
	}
}

// mountEntry is one line of /proc/<pid>/mountinfo.
type mountEntry struct {
	point   string
	fsType  string
	options map[string]bool // per-mount options (nodev, nosuid, noexec, ro, …)
}

// parseMountinfo parses mountinfo (proc(5)): "id parent major:minor root point options
// [optional fields...] - fstype source superoptions". Octal escapes (\040) are decoded.
func parseMountinfo(data []byte) ([]mountEntry, error) {
	var out []mountEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		sep := slices.Index(fields, "-")
		if len(fields) < 7 || sep < 6 || sep+1 >= len(fields) {
			return nil, fmt.Errorf("parse mountinfo line %d: %w", line, checks.ErrParse)
		}
		e := mountEntry{point: unescapeMount(fields[4]), fsType: fields[sep+1], options: map[string]bool{}}
		for _, o := range strings.Split(fields[5], ",") {
			e.options[o] = true
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// unescapeMount decodes the \ooo escapes the kernel uses for space, tab, newline and
// backslash in mount paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// readMounts reads the mount table of the audited system: PID 1's, which is the host's
// even when the agent runs in a private mount namespace (a systemd unit with PrivateTmp or
// ProtectSystem sees remounted copies of /tmp and /), or, on a live host where PID 1's is
// not readable (not root), the agent's own.
func readMounts(h host.Host) ([]mountEntry, error) {
	proc, err := h.Proc()
	if err != nil {
		return nil, err
	}
	data, err := host.ReadFile(proc, "/1/mountinfo")
	if err != nil && h.Live() {
		data, err = host.ReadFile(proc, "/self/mountinfo")
	}
	if err != nil {
		return nil, err
	}
	return parseMountinfo(data)
}

// mountOptions: world-writable scratch directories should not allow device files, setuid
// programs or (ideally) execution.
type mountOptions struct {
	id              string
	point           string
	requireSeparate bool
}

func (c mountOptions) ID() string { return c.id }

func (c mountOptions) Run(_ context.Context, h host.Host) (checks.Result, error) {
	mounts, err := readMounts(h)
	if err != nil {
		return checks.FromError("read the mount table", err), nil
	}
	var top *mountEntry
	for i := range mounts {
		if mounts[i].point == c.point {
			top = &mounts[i] // later entries are stacked on top of earlier ones
		}
	}
	if top == nil {
		if c.requireSeparate {
			return checks.Fail("%s is not a separate mount; it shares the root filesystem's options", c.point).
				Bool("separate", false).Bool("nodev", false).Bool("nosuid", false).Bool("noexec", false), nil
		}
		return checks.Skip(report.ReasonNotFound, "%s is not mounted", c.point), nil
	}
	var missing []string
	for _, o := range []string{"nodev", "nosuid", "noexec"} {
		if !top.options[o] {
			missing = append(missing, o)
		}
	}
	res := checks.Pass("%s is mounted (%s) with nodev, nosuid and noexec", c.point, top.fsType)
	if len(missing) > 0 {
		res = checks.Fail("%s is mounted (%s) without %s", c.point, top.fsType, strings.Join(missing, ", "))
		if top.options["nodev"] && top.options["nosuid"] {
			// Only noexec is missing: a weaker finding, and one some installers need.
			res = res.WithSeverity(catalog.SeverityLow)
		}
	}
	return res.Bool("separate", true).Bool("nodev", top.options["nodev"]).
		Bool("nosuid", top.options["nosuid"]).Bool("noexec", top.options["noexec"]), nil
}

// macEnforcing: a mandatory access control framework in enforcing mode confines services
// even after they are compromised.
type macEnforcing struct{}

func (macEnforcing) ID() string { return "system.mac-enforcing" }

func (macEnforcing) Run(_ context.Context, h host.Host) (checks.Result, error) {
	sys, err := h.Sys()
	if err != nil {
		return checks.FromError("sysfs", err), nil
	}
	// SELinux: /sys/fs/selinux/enforce exists when SELinux is enabled.
	if data, err := host.ReadFileLimit(sys, "/fs/selinux/enforce", 64); err == nil {
		if strings.TrimSpace(string(data)) == "1" {
			return checks.Pass("SELinux is enforcing").Enum("framework", "selinux").Bool("enforcing", true), nil
		}
		return checks.Fail("SELinux is enabled but permissive").Enum("framework", "selinux").Bool("enforcing", false), nil
	}
	enabled, err := host.ReadFileLimit(sys, "/module/apparmor/parameters/enabled", 64)
	if err != nil || strings.TrimSpace(string(enabled)) != "Y" {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return checks.FromError("read the AppArmor state", err), nil
		}
		return checks.Fail("neither AppArmor nor SELinux is enabled").Enum("framework", "none").Bool("enforcing", false), nil
	}
	profiles, err := host.ReadFile(sys, "/kernel/security/apparmor/profiles")
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Skip(report.ReasonNotSupported, "AppArmor is enabled but securityfs is not mounted at /sys/kernel/security; profile modes are unknown").
			Enum("framework", "apparmor"), nil
	}
	if err != nil {
		return checks.FromError("read AppArmor profiles", err), nil
	}
	modes := map[string]int{}
	for _, line := range strings.Split(string(profiles), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.LastIndex(line, " ("); i >= 0 && strings.HasSuffix(line, ")") {
			modes[line[i+2:len(line)-1]]++
		}
	}
	enforce, complain := modes["enforce"]+modes["kill"], modes["complain"]
	res := checks.Pass("AppArmor is enabled with %d profile(s) enforcing", enforce)
	if enforce == 0 {
		res = checks.Fail("AppArmor is enabled but no profile is in enforce mode (%d in complain mode)", complain)
	}
	return res.Enum("framework", "apparmor").Bool("enforcing", enforce > 0).
		Int("enforce_profiles", int64(enforce)).Int("complain_profiles", int64(complain)), nil
}

// knownCPUVulnerabilities are the file names under /sys/devices/system/cpu/vulnerabilities
// sent as enum values; newer ones are sent as "other".
var knownCPUVulnerabilities = []string{
	"gather_data_sampling", "ghostwrite", "indirect_target_selection", "itlb_multihit", "l1tf",
	"mds", "meltdown", "mmio_stale_data", "old_microcode", "reg_file_data_sampling", "retbleed",
	"spec_rstack_overflow", "spec_store_bypass", "spectre_v1", "spectre_v2", "srbds", "tsa",
	"tsx_async_abort", "vmscape",
}

// cpuMitigations: the kernel reports per CPU flaw whether it is mitigated.
type cpuMitigations struct{}

func (cpuMitigations) ID() string { return "system.cpu-mitigations" }

func (cpuMitigations) Run(_ context.Context, h host.Host) (checks.Result, error) {
	sys, err := h.Sys()
	if err != nil {
		return checks.FromError("sysfs", err), nil
	}
	const dir = "/devices/system/cpu/vulnerabilities"
	names, err := sys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Skip(report.ReasonNotSupported, "the kernel does not report CPU vulnerabilities (%s missing)", "/sys"+dir), nil
	}
	if err != nil {
		return checks.FromError("list CPU vulnerabilities", err), nil
	}
	var vulnerable []string
	var lines []string
	for _, n := range names {
		data, err := host.ReadFileLimit(sys, dir+"/"+n, 4096)
		if err != nil {
			continue
		}
		state := strings.TrimSpace(string(data))
		if strings.HasPrefix(state, "Vulnerable") {
			vulnerable = append(vulnerable, n)
			lines = append(lines, fmt.Sprintf("%s: %s", n, state))
		}
	}
	res := checks.Pass("all %d CPU vulnerabilities the kernel knows are mitigated or not present", len(names))
	if len(vulnerable) > 0 {
		res = checks.Fail("unmitigated CPU vulnerabilities: %d (%s)", len(vulnerable), strings.Join(vulnerable, ", "))
		for _, l := range lines {
			res = res.Detail("%s", l)
		}
	}
	// Names a newer kernel adds are sent as "other" (the details keep the real name).
	sent := make([]string, len(vulnerable))
	for i, v := range vulnerable {
		sent[i] = catalog.OtherValue
		if slices.Contains(knownCPUVulnerabilities, v) {
			sent[i] = v
		}
	}
	return res.Int("reported", int64(len(names))).Int("vulnerable_count", int64(len(vulnerable))).Enums("vulnerable", sent), nil
}

// timeDaemons maps process names (comm, 15 characters at most) to the enum value sent.
var timeDaemons = map[string]string{
	"chronyd":         "chrony",
	"systemd-timesyn": "systemd-timesyncd",
	"ntpd":            "ntpd",
	"openntpd":        "openntpd",
	"ptp4l":           "ptp",
	"phc2sys":         "ptp",
	"timemaster":      "ptp",
}

// timeSync: logs, TLS certificates, Kerberos and TOTP all depend on a correct clock.
type timeSync struct{}

func (timeSync) ID() string { return "system.time-sync" }

func (timeSync) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	for _, marker := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := h.FS().Lstat(marker); err == nil {
			return checks.Skip(report.ReasonNotApplicable, "running in a container (%s exists); the host keeps the clock", marker), nil
		}
	}
	procs, err := hostinfo.ProcessNames(proc)
	if err != nil {
		return checks.FromError("list processes", err), nil
	}
	var found []string
	for comm, name := range timeDaemons {
		if procs[comm] > 0 && !slices.Contains(found, name) {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	if len(found) == 0 {
		return checks.Fail("no time synchronisation daemon is running (chronyd, systemd-timesyncd, ntpd, ptp4l)").Enum("daemon", "none"), nil
	}
	res := checks.Pass("time is synchronised by %s", strings.Join(found, ", ")).Enum("daemon", found[0])
	if len(found) > 1 {
		res = res.Detail("more than one time daemon runs; they may fight over the clock: %s", strings.Join(found, ", "))
	}
	return res, nil
}
