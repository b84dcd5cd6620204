package ports

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/report"
)

// nsHost is the running system seen from a network namespace: /proc/net/* comes from a
// process inside it (procfs shows /proc/<pid>/net for that process's namespace), while
// /proc/<pid>/fd, comm and the rest are read as usual. With ip and ns set, commands run
// inside the namespace too (ip netns exec), so the firewall family reads its ruleset.
type nsHost struct {
	host.Host
	pid    int
	ip, ns string
}

func (h nsHost) Run(ctx context.Context, argv ...string) (host.Output, error) {
	if h.ns == "" {
		return h.Host.Run(ctx, argv...)
	}
	return h.Host.Run(ctx, append([]string{h.ip, "netns", "exec", h.ns}, argv...)...)
}

func (h nsHost) Proc() (host.FS, error) {
	proc, err := h.Host.Proc()
	if err != nil {
		return nil, err
	}
	return netFS{FS: proc, prefix: "/" + strconv.Itoa(h.pid)}, nil
}

// netFS redirects /net/... to <prefix>/net/....
type netFS struct {
	host.FS
	prefix string
}

func (f netFS) name(n string) string {
	if n == "/net" || strings.HasPrefix(n, "/net/") {
		return f.prefix + n
	}
	return n
}

func (f netFS) Open(n string) (io.ReadCloser, error)  { return f.FS.Open(f.name(n)) }
func (f netFS) Stat(n string) (host.FileInfo, error)  { return f.FS.Stat(f.name(n)) }
func (f netFS) Lstat(n string) (host.FileInfo, error) { return f.FS.Lstat(f.name(n)) }
func (f netFS) ReadDir(n string) ([]string, error)    { return f.FS.ReadDir(f.name(n)) }
func (f netFS) Readlink(n string) (string, error)     { return f.FS.Readlink(f.name(n)) }

// netns creates a network namespace with loopback up and an interface holding a
// private, a public-looking and an IPv6 documentation address; it is deleted at cleanup.
func netns(t *testing.T, ip string) string {
	// The name is unique per process and test: packages and tests run in parallel.
	t.Helper()
	ns := fmt.Sprintf("sa-ports-%d-%s", os.Getpid(), strings.ToLower(strings.TrimPrefix(t.Name(), "Test")))
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
		}
	})
	run("-n", ns, "link", "set", "lo", "up")
	// A dummy interface when the kernel has the driver, else one end of a veth pair.
	if err := exec.Command(ip, "-n", ns, "link", "add", "d0", "type", "dummy").Run(); err != nil {
		run("-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1")
		run("-n", ns, "link", "set", "d1", "up")
	}
	run("-n", ns, "addr", "add", "10.1.2.3/24", "dev", "d0")
	run("-n", ns, "addr", "add", "203.0.113.7/24", "dev", "d0")
	run("-n", ns, "-6", "addr", "add", "2001:db8::7/64", "dev", "d0", "nodad")
	run("-n", ns, "link", "set", "d0", "up")
	return ns
}

// startListener builds testdata/listener and runs it in ns with args; it returns the
// process ID and the ephemeral ports it reported. The process is killed at cleanup.
func startListener(t *testing.T, ip, ns string, args ...string) (int, []int) {
	t.Helper()
	goTool := testenv.RequireTool(t, "go")
	bin := filepath.Join(t.TempDir(), "sa-listener")
	if out, err := exec.Command(goTool, "build", "-o", bin, "./testdata/listener").CombinedOutput(); err != nil {
		t.Fatalf("build listener: %v: %s", err, out)
	}
	cmd := exec.Command(ip, append([]string{"netns", "exec", ns, bin}, args...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var ephemeral []int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			// ip netns exec runs the program in its own process (execvp after setns).
			return cmd.Process.Pid, ephemeral
		}
		if p, ok := strings.CutPrefix(line, "ephemeral "); ok {
			n, _ := strconv.Atoi(p)
			ephemeral = append(ephemeral, n)
		}
	}
	t.Fatalf("listener exited before it was ready: %v", sc.Err())
	return 0, nil
}

// TestCollectInNamespace runs real sockets of every kind in a fresh network namespace and
// checks that the collector finds exactly them, with protocol, port, scope and program,
// and that it agrees with ss(8).
func TestCollectInNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	ip := testenv.RequireTool(t, "ip")
	ss := testenv.RequireTool(t, "ss")
	ns := netns(t, ip)
	pid, ephemeral := startListener(t, ip, ns,
		"tcp4:0.0.0.0:15432", "tcp:127.0.0.1:16379", "tcp:10.1.2.3:13306", "tcp:203.0.113.7:12375",
		"tcp6:[::]:18080", "tcp:[::]:18081", "tcp6:[2001:db8::7]:15433", "tcp6:[::1]:16380",
		"tcp6mapped:[::ffff:10.1.2.3]:13307",
		"udp4:0.0.0.0:10161", "udp6:[::1]:10053", "udp:10.1.2.3:10069", "udp6:[2001:db8::7]:10070",
		"dial:127.0.0.1:16379", "udpclient:0.0.0.0:0",
	)
	live, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := collect(context.Background(), nsHost{Host: live, pid: pid})
	if err != nil {
		t.Fatal(err)
	}

	want := []string{
		"tcp 0.0.0.0:15432 any",
		"tcp 127.0.0.1:16379 loopback",
		"tcp 10.1.2.3:13306 private",
		"tcp 203.0.113.7:12375 public",
		"tcp [::]:18080 any",
		"tcp [::]:18081 any",
		"tcp [2001:db8::7]:15433 public",
		"tcp [::1]:16380 loopback",
		"tcp [::ffff:10.1.2.3]:13307 private",
		"udp 0.0.0.0:10161 any",
		"udp [::1]:10053 loopback",
		"udp 10.1.2.3:10069 private",
		"udp [2001:db8::7]:10070 public",
	}
	var got []string
	for _, s := range inv.sockets {
		a := s.addr.String()
		if s.ipv6 {
			a = "[" + a + "]"
		}
		got = append(got, fmt.Sprintf("%s %s:%d %s", s.proto, a, s.port, s.scope))
		if s.owner != ownerFound || s.proc.pid != pid || s.proc.comm != "sa-listener" {
			t.Errorf("%s %s:%d: owner %v %+v, want sa-listener pid %d", s.proto, a, s.port, s.owner, s.proc, pid)
		}
		// /proc/net does not show IPV6_V6ONLY: every IPv6 wildcard socket without an IPv4
		// twin is taken as dual-stack (bindv6only is 0), the v6-only one on 18080 included.
		if want := s.ipv6 && s.addr.IsUnspecified(); s.dual != want {
			t.Errorf("%s:%d dual = %v, want %v", a, s.port, s.dual, want)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("sockets in the namespace\n got %q\nwant %q", got, want)
	}
	if inv.skipped != len(ephemeral) || len(ephemeral) != 1 {
		t.Errorf("skipped %d ephemeral UDP socket(s), listener opened %v", inv.skipped, ephemeral)
	}

	// ss reads the kernel through netlink; it must list the same sockets (plus the UDP
	// client socket the collector leaves out on purpose). ss also knows IPV6_V6ONLY and
	// prints a dual-stack wildcard socket as "*:PORT"; /proc/net does not tell them apart.
	out, err := exec.Command(ip, "netns", "exec", ns, ss, "-H", "-l", "-n", "-t", "-u").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	var fromSS []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			t.Fatalf("ss line %q", line)
		}
		local := f[4]
		if i := strings.LastIndex(local, ":"); i > 0 && slices.Contains(ephemeral, atoi(local[i+1:])) {
			continue
		}
		fromSS = append(fromSS, f[0]+" "+strings.Replace(local, "*:", "[::]:", 1))
	}
	var ours []string
	for _, s := range inv.sockets {
		a := s.addr.String()
		if s.ipv6 {
			a = "[" + a + "]"
		}
		ours = append(ours, fmt.Sprintf("%s %s:%d", s.proto, a, s.port))
	}
	slices.Sort(fromSS)
	slices.Sort(ours)
	if !slices.Equal(fromSS, ours) {
		t.Errorf("collector and ss disagree\ncollector %q\nss        %q", ours, fromSS)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// BenchmarkCollectLive measures one collection on this machine (socket tables and the
// descriptor scan).
func BenchmarkCollectLive(b *testing.B) {
	live, err := host.New(host.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := collect(context.Background(), live); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFirewallJoinInNamespace loads an nftables ruleset into a namespace with real
// listeners and runs the family's checks, the firewall family reading the same namespace:
// the verdicts must follow the rules (admitted, source-restricted, dropped).
func TestFirewallJoinInNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	ip := testenv.RequireTool(t, "ip")
	nft := testenv.RequireTool(t, "nft")
	ns := netns(t, ip)
	rules := filepath.Join(t.TempDir(), "rules.nft")
	ruleset := `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport { 22, 6379 } accept
		ip saddr 10.0.0.0/8 tcp dport 5432 accept
	}
}
`
	if err := os.WriteFile(rules, []byte(ruleset), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ip, "netns", "exec", ns, nft, "-f", rules).CombinedOutput(); err != nil {
		t.Fatalf("nft -f: %v: %s", err, out)
	}
	pid, _ := startListener(t, ip, ns, "tcp4:0.0.0.0:6379", "tcp4:0.0.0.0:5432", "tcp4:10.1.2.3:9100", "tcp4:127.0.0.1:11211")
	live, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := nsHost{Host: live, pid: pid, ip: ip, ns: ns}
	results := map[string]checks.Result{}
	for _, c := range Checks(firewall.NewCollector()) {
		results[c.ID()] = checktest.Evaluate(h, c)
	}

	cov := results["ports.firewall-coverage"]
	if cov.Status != report.StatusFail {
		t.Fatalf("firewall-coverage: %s (%s), want fail", cov.Status, cov.Message)
	}
	verdicts := map[int64]string{}
	for i, p := range cov.Facts["ports"].([]int64) {
		verdicts[p] = cov.Facts["firewall"].([]string)[i]
	}
	want := map[int64]string{6379: "admitted", 5432: "restricted", 9100: "blocked"}
	if fmt.Sprint(verdicts) != fmt.Sprint(want) {
		t.Errorf("verdicts %v, want %v (11211 is on loopback and not judged)", verdicts, want)
	}
	// Redis on every address with its port open to the world is critical; PostgreSQL
	// restricted to the private network does not raise it further.
	if ds := results["ports.datastores"]; ds.Status != report.StatusFail || ds.Severity != "" {
		t.Errorf("datastores: %s severity %q, want fail at the catalog's critical", ds.Status, ds.Severity)
	}
	// node_exporter's port on a private address passes whatever the firewall says.
	if cp := results["ports.control-planes"]; cp.Status != report.StatusPass {
		t.Errorf("control-planes: %s (%s)", cp.Status, cp.Message)
	}
}
