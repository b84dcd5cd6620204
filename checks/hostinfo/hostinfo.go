// Package hostinfo reads facts about the running system that several check families need:
// sysctl values, running process names, and whether the host is a container/virtualisation
// host or a router (roles in which forwarding and permissive FORWARD policies are expected).
package hostinfo

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// SysctlPath maps a sysctl key ("kernel.randomize_va_space") to its procfs name.
func SysctlPath(key string) string {
	return "/sys/" + strings.ReplaceAll(key, ".", "/")
}

// Sysctl reads an integer sysctl from procfs. A missing key (feature not built into the
// kernel, IPv6 disabled) is an fs.ErrNotExist error.
func Sysctl(proc host.FS, key string) (int64, error) {
	text, err := SysctlString(proc, key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse sysctl %s value %q: %w", key, strings.TrimSpace(text), checks.ErrParse)
	}
	return n, nil
}

// SysctlString reads a text sysctl (kernel.core_pattern) without its trailing newline.
func SysctlString(proc host.FS, key string) (string, error) {
	data, err := host.ReadFileLimit(proc, SysctlPath(key), 4096)
	if err != nil {
		return "", fmt.Errorf("read sysctl %s: %w", key, err)
	}
	return strings.TrimSuffix(string(data), "\n"), nil
}

// maxProcesses bounds the process scan of ProcessNames.
const maxProcesses = 100000

// Process is a running process as procfs shows it.
type Process struct {
	PID int
	// Comm is /proc/<pid>/comm: the command name, at most 15 characters.
	Comm string
}

// Processes lists the running processes in PID order, at most maxProcesses. Processes that
// exit during the scan are left out.
func Processes(proc host.FS) ([]Process, error) {
	entries, err := proc.ReadDir("/")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	if len(pids) > maxProcesses {
		pids = pids[:maxProcesses]
	}
	out := make([]Process, 0, len(pids))
	for _, pid := range pids {
		data, err := host.ReadFileLimit(proc, "/"+strconv.Itoa(pid)+"/comm", 64)
		if err != nil {
			continue
		}
		out = append(out, Process{PID: pid, Comm: strings.TrimSpace(string(data))})
	}
	return out, nil
}

// ProcessNames returns the command names of the running processes with their counts.
func ProcessNames(proc host.FS) (map[string]int, error) {
	ps, err := Processes(proc)
	if err != nil {
		return nil, err
	}
	names := make(map[string]int, len(ps))
	for _, p := range ps {
		names[p.Comm]++
	}
	return names, nil
}

// ContainerInterfacePatterns are path.Match patterns of the interfaces that container
// engines, Kubernetes network plugins and hypervisors create.
func ContainerInterfacePatterns() []string {
	return []string{
		"docker0", "br-*", // Docker
		"cni0", "kube-*", "flannel*", "cali*", "vxlan.calico", "cilium_*", "weave", // Kubernetes CNIs
		"podman*",          // Podman
		"virbr*", "lxdbr*", // libvirt, LXD
	}
}

// IsContainerProcess reports whether a /proc/<pid>/comm name is a container engine,
// orchestrator or hypervisor daemon.
func IsContainerProcess(comm string) bool {
	switch comm {
	case "dockerd", "containerd", "kubelet", "k3s", "k3s-server", "k3s-agent", "crio", "podman", "libvirtd", "lxd":
		return true
	}
	return false
}

// RouterInterfacePatterns are path.Match patterns of VPN and tunnel interfaces: a host that
// forwards and terminates tunnels is a VPN gateway.
func RouterInterfacePatterns() []string {
	return []string{"wg*", "tun*", "tailscale*", "zt*", "ppp*", "ipsec*", "vti*", "gre*", "nebula*"}
}

// IsRoutingProcess reports whether a /proc/<pid>/comm name is a routing or VPN daemon.
func IsRoutingProcess(comm string) bool {
	switch comm {
	case "bird", "bird6", "zebra", "bgpd", "ospfd", "ospf6d", "ripd", "isisd", "babeld",
		"openvpn", "charon", "pluto", "tailscaled", "zerotier-one", "pppd", "nebula":
		return true
	}
	return false
}

// ContainerHostEvidence returns why the host looks like a container or virtualisation host
// (one line per matching interface or process name, for local details), or nothing.
func ContainerHostEvidence(h host.Host, proc host.FS) ([]string, error) {
	return roleEvidence(h, proc, ContainerInterfacePatterns(), IsContainerProcess)
}

// RouterEvidence returns why the host looks like a router or VPN gateway: tunnel
// interfaces or routing/VPN daemons, one line each.
func RouterEvidence(h host.Host, proc host.FS) ([]string, error) {
	return roleEvidence(h, proc, RouterInterfacePatterns(), IsRoutingProcess)
}

// Interfaces lists the network interface names, from /sys/class/net or, without sysfs,
// /proc/sys/net/ipv4/conf (minus "all" and "default").
func Interfaces(h host.Host, proc host.FS) ([]string, error) {
	if sys, err := h.Sys(); err == nil {
		names, err := sys.ReadDir("/class/net")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("list network interfaces: %w", err)
		}
		return names, nil
	}
	names, err := proc.ReadDir("/sys/net/ipv4/conf")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	return slices.DeleteFunc(names, func(n string) bool { return n == "all" || n == "default" }), nil
}

// roleEvidence lists the interfaces matching patterns and the processes for which isDaemon
// is true.
func roleEvidence(h host.Host, proc host.FS, patterns []string, isDaemon func(string) bool) ([]string, error) {
	ifaces, err := Interfaces(h, proc)
	if err != nil {
		return nil, err
	}
	var evidence []string
	for _, name := range ifaces {
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, name); ok {
				evidence = append(evidence, "interface "+name)
				break
			}
		}
	}
	procs, err := ProcessNames(proc)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var daemons []string
	for name := range procs {
		if isDaemon(name) {
			daemons = append(daemons, name)
		}
	}
	slices.Sort(daemons)
	for _, name := range daemons {
		evidence = append(evidence, "process "+name)
	}
	return evidence, nil
}
