package system

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

func TestAcceptRedirects4(t *testing.T) {
	// IN_DEV_RX_REDIRECTS: OR of conf/all and the interface without forwarding, AND with it.
	tests := []struct {
		all, iface int64
		forwarding bool
		want       bool
	}{
		{0, 0, false, false},
		{0, 1, false, true},
		{1, 0, false, true},
		{1, 1, false, true},
		{0, 0, true, false},
		{0, 1, true, false},
		{1, 0, true, false},
		{1, 1, true, true},
	}
	for _, tt := range tests {
		if got := acceptRedirects4(tt.all, tt.iface, tt.forwarding); got != tt.want {
			t.Errorf("acceptRedirects4(all=%d, iface=%d, forwarding=%v) = %v, want %v", tt.all, tt.iface, tt.forwarding, got, tt.want)
		}
	}
}

func TestAcceptRedirects6(t *testing.T) {
	// Only the interface's own values count; forwarding turns redirects off.
	tests := []struct {
		iface      int64
		forwarding bool
		want       bool
	}{
		{0, false, false},
		{1, false, true},
		{0, true, false},
		{1, true, false},
	}
	for _, tt := range tests {
		if got := acceptRedirects6(tt.iface, tt.forwarding); got != tt.want {
			t.Errorf("acceptRedirects6(iface=%d, forwarding=%v) = %v, want %v", tt.iface, tt.forwarding, got, tt.want)
		}
	}
}

func TestOrConf(t *testing.T) {
	tests := []struct {
		all, iface int64
		want       bool
	}{{0, 0, false}, {0, 1, true}, {1, 0, true}, {1, 1, true}}
	for _, tt := range tests {
		if got := orConf(tt.all, tt.iface); got != tt.want {
			t.Errorf("orConf(%d, %d) = %v, want %v", tt.all, tt.iface, got, tt.want)
		}
	}
}

func TestMaxConf(t *testing.T) {
	tests := []struct{ all, iface, want int64 }{
		{0, 0, 0}, {0, 1, 1}, {0, 2, 2}, {1, 0, 1}, {2, 1, 2}, {1, 2, 2},
	}
	for _, tt := range tests {
		if got := maxConf(tt.all, tt.iface); got != tt.want {
			t.Errorf("maxConf(%d, %d) = %d, want %d", tt.all, tt.iface, got, tt.want)
		}
	}
}

func TestCorePatternKind(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "empty"},
		{"core", "relative"},
		{"core.%p", "relative"},
		{" |/bin/handler", "relative"}, // the kernel looks at the first character only
		{"/var/crash/core.%e.%p", "absolute"},
		{"|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h", "pipe"},
		{"|/usr/share/apport/apport -p%p -s%s -c%c", "pipe"},
		{"@/run/coredump.socket", "socket"},
	}
	for _, tt := range tests {
		if got := corePatternKind(tt.pattern); got != tt.want {
			t.Errorf("corePatternKind(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestContainerIndicators(t *testing.T) {
	ifaces := map[string]bool{
		"docker0": true, "br-3f2a1c9d8e7b": true, "cni0": true, "podman0": true, "virbr0": true,
		"lxdbr0": true, "cali1234abcd": true, "flannel.1": true, "kube-bridge": true, "weave": true,
		"vxlan.calico": true, "cilium_host": true,
		"eth0": false, "ens3": false, "lo": false, "bond0": false, "wg0": false, "docker1": false,
	}
	for name, want := range ifaces {
		got := false
		for _, pat := range hostinfo.ContainerInterfacePatterns() {
			if ok, err := path.Match(pat, name); err != nil {
				t.Fatalf("pattern %q: %v", pat, err)
			} else if ok {
				got = true
			}
		}
		if got != want {
			t.Errorf("interface %q: container indicator = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{
		"dockerd": true, "containerd": true, "kubelet": true, "k3s": true, "crio": true,
		"podman": true, "libvirtd": true, "lxd": true,
		"sshd": false, "containerd-shim": false, "docker": false, "": false,
	} {
		if got := hostinfo.IsContainerProcess(name); got != want {
			t.Errorf("hostinfo.IsContainerProcess(%q) = %v, want %v", name, got, want)
		}
	}
}

// procHost builds a live host whose procfs holds the given sysctls. Keys with a "/" are
// paths under /proc (an interface setting, a comm file); other keys are sysctl names.
func procHost(t *testing.T, values map[string]string) *checktest.Host {
	t.Helper()
	root := t.TempDir()
	for key, v := range values {
		p := key
		if !strings.Contains(key, "/") {
			p = "sys/" + strings.ReplaceAll(key, ".", "/")
		}
		p = filepath.Join(root, "proc", p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := checktest.NewHost(root, checktest.Spec{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// ifaceConf writes net.ipv4.conf.{all,default,<iface>...}.<leaf> entries.
func ifaceConf(family, leaf string, values map[string]string) map[string]string {
	out := map[string]string{}
	for name, v := range values {
		out["sys/net/"+family+"/conf/"+name+"/"+leaf] = v
	}
	return out
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestReversePathFilterRule(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		want   report.Status
	}{
		{"all strict covers unfiltered interface", map[string]string{"all": "1", "default": "0", "eth0": "0"}, report.StatusPass},
		{"all loose covers unfiltered interface", map[string]string{"all": "2", "default": "0", "eth0": "0"}, report.StatusPass},
		{"default and every interface on", map[string]string{"all": "0", "default": "1", "eth0": "1", "eth1": "2"}, report.StatusPass},
		{"one interface unfiltered", map[string]string{"all": "0", "default": "1", "eth0": "1", "eth1": "0"}, report.StatusFail},
		{"default off", map[string]string{"all": "0", "default": "0", "eth0": "1"}, report.StatusFail},
		{"loopback ignored", map[string]string{"all": "0", "default": "1", "lo": "0", "eth0": "1"}, report.StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := procHost(t, ifaceConf("ipv4", "rp_filter", tt.values))
			res := checktest.Evaluate(h, reversePathFilter())
			if res.Status != tt.want {
				t.Errorf("status %s, want %s (%s)", res.Status, tt.want, res.Message)
			}
		})
	}
}

func TestLogMartiansRule(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		want   report.Status
	}{
		{"all on", map[string]string{"all": "1", "default": "0", "eth0": "0"}, report.StatusPass},
		{"default and every interface on", map[string]string{"all": "0", "default": "1", "eth0": "1"}, report.StatusPass},
		{"one interface silent", map[string]string{"all": "0", "default": "1", "eth0": "1", "eth1": "0"}, report.StatusFail},
		{"default off", map[string]string{"all": "0", "default": "0", "eth0": "1"}, report.StatusFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := procHost(t, ifaceConf("ipv4", "log_martians", tt.values))
			if res := checktest.Evaluate(h, logMartians()); res.Status != tt.want {
				t.Errorf("status %s, want %s (%s)", res.Status, tt.want, res.Message)
			}
		})
	}
}

func TestSendRedirectsRule(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		want   report.Status
	}{
		{"all off", map[string]string{"all": "0", "default": "0", "eth0": "0", "lo": "1"}, report.StatusPass},
		{"interface sends", map[string]string{"all": "0", "default": "0", "eth0": "1"}, report.StatusFail},
		{"all sends", map[string]string{"all": "1", "default": "0", "eth0": "0"}, report.StatusFail},
		{"default sends", map[string]string{"all": "0", "default": "1", "eth0": "0"}, report.StatusFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := procHost(t, ifaceConf("ipv4", "send_redirects", tt.values))
			if res := checktest.Evaluate(h, sendRedirectsCheck{}); res.Status != tt.want {
				t.Errorf("status %s, want %s (%s)", res.Status, tt.want, res.Message)
			}
		})
	}
}

func TestAcceptRedirectsRule(t *testing.T) {
	zero := map[string]string{"all": "0", "default": "0"}
	// base is an IPv4-only host whose conf/all and conf/default refuse redirects.
	base := func(accept, forwarding map[string]string) map[string]string {
		return merge(
			ifaceConf("ipv4", "accept_redirects", merge(zero, accept)),
			ifaceConf("ipv4", "forwarding", merge(zero, forwarding)),
			ifaceConf("ipv4", "secure_redirects", zero),
		)
	}
	tests := []struct {
		name   string
		values map[string]string
		want   report.Status
	}{
		{"interface accepts", base(map[string]string{"eth0": "1"}, map[string]string{"eth0": "0"}), report.StatusFail},
		{"forwarding interface needs all and own", base(map[string]string{"eth0": "1"}, map[string]string{"eth0": "1"}), report.StatusPass},
		{"all on with forwarding interface off", base(map[string]string{"all": "1", "eth0": "0"}, map[string]string{"eth0": "1"}), report.StatusFail},
		{"loopback ignored", base(map[string]string{"lo": "1", "eth0": "0"}, nil), report.StatusPass},
		{"secure redirects on", merge(base(map[string]string{"eth0": "0"}, nil),
			ifaceConf("ipv4", "secure_redirects", map[string]string{"all": "0", "default": "1"})), report.StatusFail},
		{"ipv6 interface accepts", merge(base(map[string]string{"eth0": "0"}, nil),
			ifaceConf("ipv6", "accept_redirects", map[string]string{"all": "0", "default": "0", "eth0": "1"}),
			ifaceConf("ipv6", "forwarding", map[string]string{"all": "0", "default": "0", "eth0": "0"})), report.StatusFail},
		{"ipv6 forwarding interface ignores redirects", merge(base(map[string]string{"eth0": "0"}, nil),
			ifaceConf("ipv6", "accept_redirects", map[string]string{"all": "0", "default": "0", "eth0": "1"}),
			ifaceConf("ipv6", "forwarding", map[string]string{"all": "1", "default": "1", "eth0": "1"})), report.StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := procHost(t, tt.values)
			if res := checktest.Evaluate(h, acceptRedirectsCheck{}); res.Status != tt.want {
				t.Errorf("status %s, want %s (%s; %v)", res.Status, tt.want, res.Message, res.Details)
			}
		})
	}
}

func TestCoreDumpsRule(t *testing.T) {
	tests := []struct {
		dumpable, pattern string
		want              report.Status
	}{
		{"0", "core", report.StatusPass},
		{"1", "|/usr/lib/systemd/systemd-coredump %P", report.StatusFail},
		{"2", "|/usr/lib/systemd/systemd-coredump %P", report.StatusPass},
		{"2", "/var/crash/core.%p", report.StatusPass},
		{"2", "core", report.StatusFail},
		{"2", "", report.StatusFail},
	}
	for _, tt := range tests {
		h := procHost(t, map[string]string{"fs.suid_dumpable": tt.dumpable, "kernel.core_pattern": tt.pattern})
		res := checktest.Evaluate(h, coreDumpsCheck{})
		if res.Status != tt.want {
			t.Errorf("suid_dumpable %s, core_pattern %q: status %s, want %s (%s)", tt.dumpable, tt.pattern, res.Status, tt.want, res.Message)
		}
		if strings.Contains(res.Message, "systemd-coredump") || strings.Contains(res.Message, "/var/crash") {
			t.Errorf("message repeats the core pattern: %s", res.Message)
		}
	}
}

func TestIPForwardingRule(t *testing.T) {
	off := map[string]string{"net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0"}
	ifaces := func(fwd map[string]string) map[string]string {
		return ifaceConf("ipv4", "forwarding", merge(map[string]string{"all": "0", "default": "0"}, fwd))
	}
	tests := []struct {
		name   string
		values map[string]string
		want   report.Status
		reason report.Reason
	}{
		{"off", merge(off, ifaces(map[string]string{"eth0": "0"})), report.StatusPass, ""},
		{"ipv6 disabled", merge(map[string]string{"net.ipv4.ip_forward": "0"}, ifaces(nil)), report.StatusPass, ""},
		{"ipv4 on", merge(off, map[string]string{"net.ipv4.ip_forward": "1"}, ifaces(nil)), report.StatusFail, ""},
		{"ipv6 on", merge(off, map[string]string{"net.ipv6.conf.all.forwarding": "1"}, ifaces(nil)), report.StatusFail, ""},
		{"one interface forwards", merge(off, ifaces(map[string]string{"eth0": "1"})), report.StatusFail, ""},
		{"loopback forwarding ignored", merge(off, ifaces(map[string]string{"lo": "1"})), report.StatusPass, ""},
		{"container daemon", merge(off, map[string]string{"net.ipv4.ip_forward": "1", "4242/comm": "dockerd"}, ifaces(nil)),
			report.StatusSkip, report.ReasonNotApplicable},
		{"bridge in procfs without sysfs", merge(off, map[string]string{"net.ipv4.ip_forward": "1"}, ifaces(map[string]string{"virbr0": "1"})),
			report.StatusSkip, report.ReasonNotApplicable},
		{"ordinary process", merge(off, map[string]string{"net.ipv4.ip_forward": "1", "4242/comm": "sshd"}, ifaces(nil)),
			report.StatusFail, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := checktest.Evaluate(procHost(t, tt.values), ipForwardingCheck{})
			if res.Status != tt.want || res.Reason != tt.reason {
				t.Errorf("status %s/%s, want %s/%s (%s)", res.Status, res.Reason, tt.want, tt.reason, res.Message)
			}
		})
	}
}

// TestKernelChecksAreLive: every kernel check reads procfs, so its catalog entry must say
// live: true (offline roots then skip it with not_live).
func TestKernelChecksAreLive(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kernelChecks() {
		if entry, ok := cat.Lookup(c.ID()); !ok || !entry.Live {
			t.Errorf("%s: catalog entry missing or not live: true", c.ID())
		}
	}
}

// kernelSysctlKeys lists every global sysctl the kernel checks read.
func kernelSysctlKeys() []string {
	return []string{
		"kernel.randomize_va_space", "fs.suid_dumpable", "kernel.core_pattern",
		"kernel.yama.ptrace_scope", "kernel.kptr_restrict", "kernel.dmesg_restrict",
		"kernel.unprivileged_bpf_disabled", "net.core.bpf_jit_harden",
		"fs.protected_hardlinks", "fs.protected_symlinks", "fs.protected_fifos", "fs.protected_regular",
		"kernel.sysrq", "kernel.perf_event_paranoid",
		"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
		"net.ipv4.tcp_syncookies", "net.ipv4.icmp_echo_ignore_broadcasts",
		"net.ipv4.icmp_ignore_bogus_error_responses",
	}
}

// TestSysctlMatchesTool compares what the checks read from procfs with the real
// sysctl(8) on this machine, for every key the kernel checks read, including the
// per-interface network settings of every interface. Keys sysctl reports as unknown must be
// absent for the checks too.
func TestSysctlMatchesTool(t *testing.T) {
	tool := testenv.RequireTool(t, "sysctl")
	h, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	proc, err := h.Proc()
	if err != nil {
		testenv.Unavailable(t, "procfs: "+err.Error())
	}
	keys := kernelSysctlKeys()
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	confLeaves := map[string][]string{
		"ipv4": {"forwarding", "accept_redirects", "secure_redirects", "send_redirects", "accept_source_route", "rp_filter", "log_martians"},
		"ipv6": {"forwarding", "accept_redirects", "accept_source_route"},
	}
	for family, leaves := range confLeaves {
		names, err := proc.ReadDir("/sys/net/" + family + "/conf")
		if err != nil {
			t.Logf("%s conf: %v", family, err)
			continue
		}
		for _, name := range names {
			if strings.Contains(name, ".") {
				continue // sysctl spells dots in interface names as "/"; not worth the escape here
			}
			for _, leaf := range leaves {
				if key := "net." + family + ".conf." + name + "." + leaf; !seen[key] {
					seen[key] = true
					keys = append(keys, key)
				}
			}
		}
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			cmd := exec.Command(tool, "-n", key)
			cmd.Env = []string{"LC_ALL=C", "PATH=" + host.SearchPath}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			var exitErr *exec.ExitError
			if runErr != nil && !errors.As(runErr, &exitErr) {
				t.Fatalf("run sysctl: %v", runErr)
			}
			if runErr != nil {
				msg := stderr.String()
				if !strings.Contains(msg, "cannot stat") && !strings.Contains(msg, "unknown key") {
					t.Fatalf("sysctl -n %s: %v: %s", key, runErr, msg)
				}
				if _, err := hostinfo.SysctlString(proc, key); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("sysctl reports %s unknown, but reading it gave %v", key, err)
				}
				t.Skipf("sysctl: %s", strings.TrimSpace(msg))
			}
			want := strings.TrimSuffix(stdout.String(), "\n")
			if key == "kernel.core_pattern" {
				got, err := hostinfo.SysctlString(proc, key)
				if err != nil || got != want {
					t.Errorf("readSysctlString = %q, %v; sysctl -n = %q", got, err, want)
				}
				return
			}
			wantN, err := strconv.ParseInt(want, 10, 64)
			if err != nil {
				t.Fatalf("sysctl -n %s = %q: %v", key, want, err)
			}
			got, err := hostinfo.Sysctl(proc, key)
			if err != nil || got != wantN {
				t.Errorf("readSysctl = %d, %v; sysctl -n = %d", got, err, wantN)
			}
			if parts := strings.Split(key, "."); len(parts) == 5 && parts[0] == "net" && parts[2] == "conf" {
				got, err := readConfValue(proc, parts[1], parts[3], parts[4])
				if err != nil || got != wantN {
					t.Errorf("readConfValue = %d, %v; sysctl -n = %d", got, err, wantN)
				}
			}
		})
	}
}
