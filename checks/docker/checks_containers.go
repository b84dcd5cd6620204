package docker

import (
	"context"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// This file holds the per-container checks. Each judges the running and created
// containers (a created container starts as configured) and reports the offenders' names
// as object facts, which the payload hashes.

// maxListed bounds object and port lists in facts (the catalog's max_items).
const maxListed = 64

// offender is a container a check objects to, with what it found.
type offender struct {
	name string
	what string
	// severity lowers the result for this container's finding ("" = the catalog's).
	severity catalog.Severity
}

// objects adds a list of object facts (the container names, which the payload hashes),
// cut to the catalog's max_items.
func objects(r checks.Result, key string, names []string) checks.Result {
	if len(names) > maxListed {
		names = names[:maxListed]
	}
	return r.Objects(key, names)
}

// judgeContainers builds the result of a per-container check: pass when nobody offends,
// fail with the highest severity of the offenders otherwise. what is the failure's
// subject ("run privileged").
func judgeContainers(s *state, found []offender, pass, what string) checks.Result {
	e := s.api
	n := len(e.containers)
	var r checks.Result
	if len(found) == 0 {
		r = checks.Pass("%s (%d container(s) examined)", pass, n)
	} else {
		names := make([]string, len(found))
		sev := catalog.Severity("")
		for i, f := range found {
			names[i] = f.name
			switch {
			case f.severity == "":
				sev = catalog.SeverityCritical // the catalog's severity: WithSeverity never raises
			case sev == "" || f.severity.Rank() > sev.Rank():
				sev = f.severity
			}
		}
		shown := names
		if len(shown) > 3 {
			shown = append(slices.Clip(shown[:3]), "…")
		}
		r = checks.Fail("%d of %d container(s) %s: %s", len(found), n, what, strings.Join(shown, ", "))
		if sev != catalog.SeverityCritical {
			r = r.WithSeverity(sev)
		}
		for _, f := range found {
			r = r.Detail("%s: %s", f.name, f.what)
		}
		r = objects(r, "containers", names)
	}
	if len(found) == 0 {
		r = objects(r, "containers", nil)
	}
	r = r.Int("count", int64(len(found))).Int("examined", int64(n))
	if e.skipped > 0 {
		r = r.Detail("%d stopped container(s) not examined", e.skipped)
	}
	if e.truncated {
		r = r.Detail("only the first %d containers were examined", maxContainers)
	}
	return r
}

// runPrivileged is docker.privileged-containers.
func runPrivileged(_ context.Context, _ host.Host, s *state) checks.Result {
	var found []offender
	for _, c := range s.api.containers {
		if c.privileged {
			found = append(found, offender{name: c.name, what: "privileged (" + c.state + "): every device and capability, no confinement"})
		}
	}
	return judgeContainers(s, found, "no container runs privileged", "run privileged")
}

// runtimeSockets are the base names of container-engine API sockets.
func runtimeSockets() []string {
	return []string{"docker.sock", "containerd.sock", "podman.sock", "crio.sock", "dockershim.sock", "buildkitd.sock"}
}

// exposesSocket reports whether a bind mount gives the container an engine socket: the
// socket itself or a directory holding a socket found on the host.
func exposesSocket(fsys host.FS, s *state, src string) bool {
	if slices.Contains(runtimeSockets(), path.Base(src)) {
		return true
	}
	csrc := canonical(fsys, src)
	for _, sock := range s.sockets {
		cs := canonical(fsys, sock.path)
		if cs == csrc || csrc == "/" || strings.HasPrefix(cs, csrc+"/") {
			return true
		}
	}
	return false
}

// runSocketMounted is docker.socket-mounted.
func runSocketMounted(_ context.Context, h host.Host, s *state) checks.Result {
	var found []offender
	for _, c := range s.api.containers {
		var what []string
		for _, m := range c.mounts {
			if exposesSocket(h.FS(), s, m.source) {
				what = append(what, fmt.Sprintf("%s mounted at %s", m.source, m.dest))
			}
		}
		if len(what) > 0 {
			found = append(found, offender{name: c.name, what: strings.Join(what, "; ") + ": the container controls the engine"})
		}
	}
	return judgeContainers(s, found, "no container has the engine socket mounted", "have the engine socket mounted")
}

// sensitivePaths maps the host directories no container should mount to their fact values.
func sensitivePaths() map[string]string {
	return map[string]string{
		"/": "root-fs", "/boot": "boot", "/dev": "dev", "/etc": "etc", "/lib": "lib", "/proc": "proc",
		"/sys": "sys", "/usr": "usr", "/var/run": "var-run", "/run": "run", "/root": "root-home",
	}
}

// runSensitiveMounts is docker.sensitive-mounts: a writable system directory lets the
// container change the host; read-only ones still leak secrets and host state.
func runSensitiveMounts(_ context.Context, _ host.Host, s *state) checks.Result {
	table := sensitivePaths()
	var found []offender
	var kinds []string
	writable := false
	for _, c := range s.api.containers {
		var what []string
		rw := false
		for _, m := range c.mounts {
			kind, ok := table[m.source]
			if !ok {
				continue
			}
			mode := "read-only"
			if m.rw {
				mode, rw = "writable", true
			}
			what = append(what, fmt.Sprintf("%s at %s (%s)", m.source, m.dest, mode))
			if !slices.Contains(kinds, kind) {
				kinds = append(kinds, kind)
			}
		}
		if len(what) == 0 {
			continue
		}
		o := offender{name: c.name, what: strings.Join(what, "; ")}
		if !rw {
			o.severity = catalog.SeverityLow
		} else {
			o.severity = catalog.SeverityHigh
			writable = true
		}
		found = append(found, o)
	}
	slices.Sort(kinds)
	r := judgeContainers(s, found, "no container mounts a host system directory", "mount host system directories")
	return r.Enums("paths", orEmpty(kinds)).Bool("writable", writable)
}

// orEmpty returns list, or an empty list for nil, so that list facts are never null.
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// runHostNamespaces is docker.host-namespaces: sharing the host's process, IPC or user
// namespace removes isolation that matters (high); the network or UTS namespace less so
// (medium). The user namespace counts only when the daemon remaps users.
func runHostNamespaces(_ context.Context, _ host.Host, s *state) checks.Result {
	remaps := s.api.info.securityOption("userns")
	var found []offender
	var kinds []string
	for _, c := range s.api.containers {
		var shared []string
		sev := catalog.SeverityMedium
		for _, ns := range []struct {
			name, mode string
			high       bool
		}{
			{"pid", c.pidMode, true}, {"ipc", c.ipcMode, true}, {"userns", c.usernsMode, true},
			{"net", c.netMode, false}, {"uts", c.utsMode, false},
		} {
			if ns.mode != "host" || (ns.name == "userns" && !remaps) {
				continue
			}
			shared = append(shared, ns.name)
			if ns.high {
				sev = catalog.SeverityHigh
			}
			if !slices.Contains(kinds, ns.name) {
				kinds = append(kinds, ns.name)
			}
		}
		if len(shared) > 0 {
			found = append(found, offender{name: c.name, what: "shares the host's " + strings.Join(shared, ", ") + " namespace(s)", severity: sev})
		}
	}
	slices.Sort(kinds)
	r := judgeContainers(s, found, "no container shares a host namespace", "share host namespaces")
	return r.Enums("namespaces", orEmpty(kinds))
}

// defaultCaps are the capabilities Docker grants every container.
func defaultCaps() []string {
	return []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
		"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
}

// dangerousCaps are the added capabilities that amount to host root or kernel access.
func dangerousCaps() []string {
	return []string{"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH",
		"NET_ADMIN", "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE", "SYS_BOOT"}
}

// knownCaps are the fact values of added capabilities (the Linux capabilities outside
// Docker's default set, lower case, and "all").
func knownCaps() []string {
	return []string{"all", "audit_control", "audit_read", "block_suspend", "bpf", "checkpoint_restore",
		"dac_read_search", "ipc_lock", "ipc_owner", "lease", "linux_immutable", "mac_admin", "mac_override",
		"net_admin", "net_broadcast", "perfmon", "sys_admin", "sys_boot", "sys_module", "sys_nice",
		"sys_pacct", "sys_ptrace", "sys_rawio", "sys_resource", "sys_time", "sys_tty_config", "syslog", "wake_alarm"}
}

// normCap is a capability name without the CAP_ prefix, upper case.
func normCap(c string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
}

// runCapabilities is docker.capabilities: capabilities added beyond Docker's default set.
// Privileged containers are left to docker.privileged-containers.
func runCapabilities(_ context.Context, _ host.Host, s *state) checks.Result {
	var found []offender
	var kinds []string
	for _, c := range s.api.containers {
		if c.privileged {
			continue
		}
		var added []string
		sev := catalog.SeverityLow
		for _, raw := range c.capAdd {
			cp := normCap(raw)
			if cp == "" || slices.Contains(defaultCaps(), cp) || slices.Contains(added, cp) {
				continue
			}
			added = append(added, cp)
			if slices.Contains(dangerousCaps(), cp) {
				sev = catalog.SeverityHigh
			}
			k := strings.ToLower(cp)
			if !slices.Contains(knownCaps(), k) {
				k = "other"
			}
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
		if len(added) > 0 {
			found = append(found, offender{name: c.name, what: "adds " + strings.Join(added, ", "), severity: sev})
		}
	}
	slices.Sort(kinds)
	r := judgeContainers(s, found, "no container adds capabilities beyond the default set", "add capabilities")
	return r.Enums("capabilities", orEmpty(kinds))
}

// runSecurityProfiles is docker.security-profiles: seccomp, AppArmor or SELinux turned off
// for a container. Privileged containers are left to docker.privileged-containers.
func runSecurityProfiles(_ context.Context, _ host.Host, s *state) checks.Result {
	var found []offender
	var kinds []string
	for _, c := range s.api.containers {
		if c.privileged {
			continue
		}
		var off []string
		for _, p := range []struct {
			name string
			on   bool
			how  string
		}{
			{"seccomp", c.seccompUnconfined, "seccomp=unconfined"},
			{"apparmor", c.apparmorUnconfined, "apparmor=unconfined"},
			// Docker adds label=disable itself to containers sharing the host's PID or IPC
			// namespace (which docker.host-namespaces judges).
			{"selinux", c.labelDisabled && c.pidMode != "host" && c.ipcMode != "host", "label=disable"},
		} {
			if !p.on {
				continue
			}
			off = append(off, p.how)
			if !slices.Contains(kinds, p.name) {
				kinds = append(kinds, p.name)
			}
		}
		if len(off) > 0 {
			found = append(found, offender{name: c.name, what: strings.Join(off, ", ")})
		}
	}
	slices.Sort(kinds)
	r := judgeContainers(s, found, "no container turns off seccomp, AppArmor or SELinux", "run without a security profile")
	return r.Enums("profiles", orEmpty(kinds))
}

// allInterfaces reports whether a binding's host address is every interface. A created
// container's empty address becomes the daemon's default (--ip, 0.0.0.0 unless set).
func allInterfaces(s *state, b portBinding) bool {
	ip := b.hostIP
	if ip == "" && b.requested {
		ip = "0.0.0.0"
		if s.confErr == nil {
			ip = s.conf.bindIP()
		}
	}
	return ip == "" || ip == "0.0.0.0" || ip == "::"
}

// publishedAll returns, per container, the ports published on every interface.
func publishedAll(s *state) ([]offender, []int) {
	var found []offender
	var ports []int
	for _, c := range s.api.containers {
		var what []string
		web := true
		for _, b := range c.ports {
			if !allInterfaces(s, b) {
				continue
			}
			ip := b.hostIP
			if ip == "" {
				ip = "*"
			}
			what = append(what, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(ip, strconv.Itoa(b.hostPort)), b.containerPort, b.proto))
			if b.hostPort > 0 && !slices.Contains(ports, b.hostPort) {
				ports = append(ports, b.hostPort)
			}
			if b.hostPort != 80 && b.hostPort != 443 {
				web = false
			}
		}
		if len(what) == 0 {
			continue
		}
		o := offender{name: c.name, what: "published on all interfaces: " + strings.Join(what, ", "), severity: catalog.SeverityMedium}
		if web {
			o.severity = catalog.SeverityLow
		}
		found = append(found, o)
	}
	slices.Sort(ports)
	return found, ports
}

// portFacts turns ports into a list fact.
func portFacts(ports []int) []int64 {
	out := []int64{}
	for i, p := range ports {
		if i >= maxListed {
			break
		}
		out = append(out, int64(p))
	}
	return out
}

// runPublishedPorts is docker.published-ports: a port published without a host address is
// open on every interface. Only 80 and 443 (web servers meant to be public) make it low.
func runPublishedPorts(_ context.Context, _ host.Host, s *state) checks.Result {
	found, ports := publishedAll(s)
	r := judgeContainers(s, found, "no container port is published on all interfaces", "publish ports on all interfaces")
	return r.Ints("ports", portFacts(ports))
}

// isRootUser reports whether a container user is root: empty (the image default, root
// unless the image says otherwise), 0 or root, with or without a group.
func isRootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "" || name == "0" || name == "root"
}

// runRootContainers is docker.root-containers: a process running as root in the container
// is root on the host once it escapes, unless the daemon remaps users or runs rootless.
func runRootContainers(_ context.Context, _ host.Host, s *state) checks.Result {
	remapped := s.api.info.securityOption("userns") || s.api.info.securityOption("rootless")
	var found []offender
	for _, c := range s.api.containers {
		if !isRootUser(c.user) {
			continue
		}
		what := "runs as root (no user set)"
		if c.user != "" {
			what = "runs as " + c.user
		}
		o := offender{name: c.name, what: what, severity: catalog.SeverityMedium}
		if remapped {
			o.severity = catalog.SeverityLow
			o.what += "; the daemon maps it to an unprivileged host user"
		}
		found = append(found, o)
	}
	return judgeContainers(s, found, "every container runs as a non-root user", "run as root")
}

// runResourceLimits is docker.resource-limits: without a memory or process limit one
// container can exhaust the host (a fork bomb, a leak).
func runResourceLimits(_ context.Context, _ host.Host, s *state) checks.Result {
	var found []offender
	noMem, noPids := 0, 0
	for _, c := range s.api.containers {
		var missing []string
		if c.memory <= 0 {
			missing = append(missing, "memory")
			noMem++
		}
		if c.pidsLimit <= 0 {
			missing = append(missing, "pids")
			noPids++
		}
		if len(missing) > 0 {
			found = append(found, offender{name: c.name, what: "no " + strings.Join(missing, " or ") + " limit"})
		}
	}
	r := judgeContainers(s, found, "every container has a memory and a process limit", "lack resource limits")
	return r.Int("no_memory_limit", int64(noMem)).Int("no_pids_limit", int64(noPids))
}
