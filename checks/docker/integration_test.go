package docker

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/report"
)

// The integration tests start Debian's dockerd on a private socket, inside a network
// namespace the test creates, so that its bridge and iptables rules stay out of the
// machine's own network. dockerd enters the namespace with `nsenter --net` rather than
// `ip netns exec`, which also remounts /sys and so hides the cgroup mounts dockerd needs.
// Everything it starts (containerd, shims, docker-proxy) runs with paths under the test's
// temporary directory and is stopped, reaped and unmounted in t.Cleanup.

// daemonSeq numbers the namespaces of one test process.
var daemonSeq atomic.Int64

// testDaemon is a dockerd started by a test.
type testDaemon struct {
	tb     testing.TB
	dir    string
	socket string
	ns     string
	cmd    *exec.Cmd
	docker string
}

// prSetChildSubreaper makes orphaned descendants (containerd shims daemonize) children of
// the test process, so that cleanup can reap them instead of leaving zombies to init.
const prSetChildSubreaper = 36

// startDaemon starts dockerd with extra flags and waits for its API.
func startDaemon(tb testing.TB, flags ...string) *testDaemon {
	tb.Helper()
	testenv.RequireRoot(tb)
	dockerd := testenv.RequireTool(tb, "dockerd")
	for _, tool := range []string{"containerd", "runc", "ip", "nsenter"} {
		testenv.RequireTool(tb, tool)
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		testenv.Unavailable(tb, "busybox-static (/bin/busybox) is not installed")
	}
	d := &testDaemon{tb: tb, docker: testenv.RequireTool(tb, "docker")}
	dir, err := os.MkdirTemp("", "sa-docker-")
	if err != nil {
		tb.Fatal(err)
	}
	d.dir, d.socket = dir, filepath.Join(dir, "docker.sock")
	d.ns = fmt.Sprintf("sa-docker-%d-%d", os.Getpid(), daemonSeq.Add(1))
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		tb.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	tb.Cleanup(d.stop)
	d.run("ip", "netns", "add", d.ns)
	d.run("nsenter", "--net=/run/netns/"+d.ns, "ip", "link", "set", "lo", "up")
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte(`{"log-opts": {"max-size": "10m"}}`+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"--net=/run/netns/" + d.ns, dockerd, "--host", "unix://" + d.socket,
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "--config-file", filepath.Join(dir, "daemon.json"),
		"--log-level", "warn"}, flags...)
	d.cmd = exec.Command("nsenter", args...)
	log, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		tb.Fatal(err)
	}
	defer log.Close()
	d.cmd.Stdout, d.cmd.Stderr = log, log
	if err := d.cmd.Start(); err != nil {
		tb.Fatalf("start dockerd: %v", err)
	}
	client := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "unix", d.socket)
	}}, Timeout: time.Second}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get("http://docker/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			tb.Fatalf("dockerd did not answer /_ping within 60s: %v\n%s", err, out)
		}
	}
	client.CloseIdleConnections()
	return d
}

// run runs a command that must succeed.
func (d *testDaemon) run(argv ...string) string {
	d.tb.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		d.tb.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// cli runs the docker CLI against the private socket.
func (d *testDaemon) cli(stdin io.Reader, args ...string) string {
	d.tb.Helper()
	cmd := exec.Command(d.docker, args...)
	cmd.Env = []string{"DOCKER_HOST=unix://" + d.socket, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + d.dir}
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		d.tb.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// importBusybox imports a tiny image made of busybox-static as sa-busybox:test.
func (d *testDaemon) importBusybox() {
	d.tb.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		d.tb.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"bin/", "etc/", "tmp/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			d.tb.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bb))}); err != nil {
		d.tb.Fatal(err)
	}
	if _, err := tw.Write(bb); err != nil {
		d.tb.Fatal(err)
	}
	for _, l := range []string{"sh", "sleep"} {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox"}); err != nil {
			d.tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		d.tb.Fatal(err)
	}
	d.cli(&buf, "import", "-", "sa-busybox:test")
}

// ours reports whether a process belongs to this daemon: its command line names the
// daemon's directory (dockerd, containerd, shims, docker-proxy do).
func (d *testDaemon) ours(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(data, []byte(d.dir))
}

// processes lists this daemon's processes, children of the test process included.
func (d *testDaemon) processes() []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != os.Getpid() && d.ours(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// stop removes the containers, stops dockerd and everything it started, reaps them,
// unmounts what they mounted and deletes the namespace and the directory.
func (d *testDaemon) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		if _, err := os.Stat(d.socket); err == nil {
			cmd := exec.Command(d.docker, "ps", "-aq")
			cmd.Env = []string{"DOCKER_HOST=unix://" + d.socket}
			if out, err := cmd.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
				rm := exec.Command(d.docker, append([]string{"rm", "-f"}, strings.Fields(string(out))...)...)
				rm.Env = cmd.Env
				_ = rm.Run()
			}
		}
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- d.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = d.cmd.Process.Kill()
			<-done
		}
	}
	for range 50 {
		left := d.processes()
		if len(left) == 0 {
			break
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil) // reaps those reparented to us
		}
		time.Sleep(100 * time.Millisecond)
	}
	if left := d.processes(); len(left) > 0 {
		d.tb.Errorf("processes of the test daemon survive: %v", left)
	}
	reapOrphans()
	d.unmountAll()
	if d.ns != "" {
		_ = exec.Command("ip", "netns", "del", d.ns).Run()
	}
	if err := os.RemoveAll(d.dir); err != nil {
		d.tb.Errorf("remove %s: %v", d.dir, err)
	}
}

// reapOrphans reaps the exited children of the test process that no exec.Cmd waits for:
// the containerd shims, which daemonize and, with the test as their subreaper, become its
// children when their parent exits.
func reapOrphans() {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(data, ')')
		if i < 0 || !bytes.Contains(data[:i], []byte("(containerd-shim")) {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 2 || f[0] != "Z" || f[1] != strconv.Itoa(self) {
			continue
		}
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// unmountAll unmounts every mount point under the daemon's directory, deepest first.
func (d *testDaemon) unmountAll() {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], d.dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			d.tb.Errorf("unmount %s: %v", p, err)
		}
	}
}

// privateHost is the running system, except that /var/run/docker.sock is the test
// daemon's private socket (for Stat and DialUnix) and the private path itself is hidden, so
// the collector finds the daemon where a real host has it. Commands run in the daemon's
// network namespace, so that the firewall collector reads Docker's rules.
type privateHost struct {
	host.Host
	d    *testDaemon
	fsys privateFS
}

func newPrivateHost(t testing.TB, d *testDaemon) *privateHost {
	h, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &privateHost{Host: h, d: d, fsys: privateFS{FS: h.FS(), socket: d.socket}}
}

func (p *privateHost) FS() host.FS { return p.fsys }

func (p *privateHost) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	if path == socketVarRun {
		path = p.d.socket
	}
	return p.Host.DialUnix(ctx, path)
}

func (p *privateHost) Run(ctx context.Context, argv ...string) (host.Output, error) {
	return p.Host.Run(ctx, append([]string{"nsenter", "--net=/run/netns/" + p.d.ns}, argv...)...)
}

// privateFS maps /var/run/docker.sock to the private socket.
type privateFS struct {
	host.FS
	socket string
}

func (f privateFS) redirect(op, name string) (string, error) {
	switch name {
	case socketVarRun:
		return f.socket, nil
	case f.socket:
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return name, nil
}

func (f privateFS) Stat(name string) (host.FileInfo, error) {
	n, err := f.redirect("stat", name)
	if err != nil {
		return host.FileInfo{}, err
	}
	return f.FS.Stat(n)
}

func (f privateFS) Lstat(name string) (host.FileInfo, error) {
	n, err := f.redirect("lstat", name)
	if err != nil {
		return host.FileInfo{}, err
	}
	return f.FS.Lstat(n)
}

// evaluateAll runs every check of the family with fresh collectors, as one audit does.
func evaluateAll(h host.Host) map[string]checks.Result {
	out := map[string]checks.Result{}
	for _, c := range checksWith(newCollector(noEnv), firewall.NewCollector()) {
		out[c.ID()] = checktest.Evaluate(h, c)
	}
	return out
}

func TestIntegrationDockerd(t *testing.T) {
	d := startDaemon(t, "--no-new-privileges")
	d.importBusybox()
	secret := fmt.Sprintf("%s-integration-%d", plantedSecret, time.Now().UnixNano())
	env := []string{"-e", "SA_TOKEN=" + secret}
	create := func(verb, name string, opts ...string) {
		args := append([]string{verb}, env...)
		if verb == "run" {
			args = append(args, "-d")
		}
		args = append(args, "--name", name)
		args = append(args, opts...)
		d.cli(nil, append(args, "sa-busybox:test", "sleep", "3600")...)
	}
	create("create", "privileged", "--privileged")
	create("run", "socket", "-v", d.socket+":/var/run/docker.sock")
	create("run", "etc-rw", "-v", "/etc:/host-etc")
	create("run", "pid-host", "--pid", "host")
	create("run", "sys-admin", "--cap-add", "SYS_ADMIN")
	create("run", "seccomp-off", "--security-opt", "seccomp=unconfined")
	create("run", "published", "-p", "0.0.0.0:18080:80")
	create("run", "root-user", "--user", "0")
	create("run", "hardened", "--read-only", "--user", "1000", "--memory", "64m", "--pids-limit", "64",
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges")

	logs := captureLogs(t)
	h := newPrivateHost(t, d)
	got := evaluateAll(h)
	all := []string{"privileged", "socket", "etc-rw", "pid-host", "sys-admin", "seccomp-off", "published", "root-user", "hardened"}
	rootish := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == "hardened" })
	for _, tc := range []struct {
		id         string
		status     report.Status
		containers []string
		facts      report.Facts
	}{
		{id: "docker.socket-permissions", status: report.StatusPass, facts: report.Facts{"sockets": int64(1), "mode": int64(0o660)}},
		{id: "docker.remote-api-tls", status: report.StatusPass, facts: report.Facts{"tcp_hosts": int64(0)}},
		{id: "docker.userns", status: report.StatusFail, facts: report.Facts{"rootless": false, "userns_remap": false}},
		{id: "docker.no-new-privileges", status: report.StatusPass, facts: report.Facts{"enabled": true, "source": "config"}},
		{id: "docker.icc", status: report.StatusFail, facts: report.Facts{"icc": true}},
		{id: "docker.insecure-registries", status: report.StatusPass, facts: report.Facts{"insecure": int64(0)}},
		{id: "docker.iptables", status: report.StatusPass},
		{id: "docker.log-rotation", status: report.StatusPass, facts: report.Facts{"driver": "json-file", "max_size_set": true}},
		{id: "docker.privileged-containers", status: report.StatusFail, containers: []string{"privileged"}, facts: report.Facts{"examined": int64(9)}},
		{id: "docker.socket-mounted", status: report.StatusFail, containers: []string{"socket"}},
		{id: "docker.sensitive-mounts", status: report.StatusFail, containers: []string{"etc-rw"}, facts: report.Facts{"writable": true}},
		{id: "docker.host-namespaces", status: report.StatusFail, containers: []string{"pid-host"}},
		{id: "docker.capabilities", status: report.StatusFail, containers: []string{"sys-admin"}},
		{id: "docker.security-profiles", status: report.StatusFail, containers: []string{"seccomp-off"}},
		{id: "docker.published-ports", status: report.StatusFail, containers: []string{"published"}},
		{id: "docker.root-containers", status: report.StatusFail, containers: rootish},
		{id: "docker.resource-limits", status: report.StatusFail, containers: rootish},
		{id: "docker.firewall-bypass", status: report.StatusSkip},
	} {
		res, ok := got[tc.id]
		if !ok {
			t.Errorf("%s did not run", tc.id)
			continue
		}
		if res.Status != tc.status {
			t.Errorf("%s: %s (%s: %s), want %s", tc.id, res.Status, res.Reason, res.Message, tc.status)
		}
		if tc.containers != nil {
			names, _ := res.Facts["containers"].([]string)
			want := slices.Sorted(slices.Values(tc.containers))
			if !slices.Equal(names, want) {
				t.Errorf("%s: containers %v, want %v", tc.id, names, want)
			}
		}
		for k, v := range tc.facts {
			if fmt.Sprint(res.Facts[k]) != fmt.Sprint(v) {
				t.Errorf("%s: fact %s = %v, want %v", tc.id, k, res.Facts[k], v)
			}
		}
	}
	if p := got["docker.published-ports"].Facts["ports"]; fmt.Sprint(p) != "[18080]" {
		t.Errorf("published ports %v, want [18080]", p)
	}
	if v := got["docker.userns"].Facts["engine_version"]; v == nil || !strings.HasPrefix(v.(string), "20.10") {
		t.Errorf("engine version %v", v)
	}

	// The leak test: the planted secret reaches neither the local report, the payload nor
	// the logs, while the local report names the containers.
	var results []evaluated
	for _, c := range Checks(nil) {
		results = append(results, evaluated{c.ID(), got[c.ID()]})
	}
	local, wire := renderAll(t, results)
	for _, what := range []struct {
		name string
		data []byte
	}{{"local JSON report", local}, {"payload", wire}, {"logs", logs.Bytes()}} {
		if bytes.Contains(what.data, []byte(plantedSecret)) {
			t.Errorf("the %s contains the planted secret", what.name)
		}
	}
	if !bytes.Contains(local, []byte("seccomp-off")) || bytes.Contains(wire, []byte(`"seccomp-off"`)) {
		t.Error("container names: expected in the local report only")
	}

	// The firewall join against Docker's real chains: a ufw chain makes ufw active; an empty
	// DOCKER-USER then fails, a rule in it passes.
	ipt := func(args ...string) {
		d.run(append([]string{"nsenter", "--net=/run/netns/" + d.ns, "iptables"}, args...)...)
	}
	ipt("-N", "ufw-user-input")
	res := evaluateAll(h)["docker.firewall-bypass"]
	if res.Status != report.StatusFail || fmt.Sprint(res.Facts["managers"]) != "[ufw]" || fmt.Sprint(res.Facts["ports"]) != "[18080]" {
		t.Errorf("ufw with an empty DOCKER-USER: %s %q facts %v, want fail", res.Status, res.Message, res.Facts)
	}
	ipt("-I", "DOCKER-USER", "1", "-i", "eth0", "!", "-s", "10.0.0.0/8", "-j", "DROP")
	res = evaluateAll(h)["docker.firewall-bypass"]
	if res.Status != report.StatusPass || res.Facts["docker_user_rules"] != int64(1) {
		t.Errorf("ufw with a DOCKER-USER rule: %s %q facts %v, want pass", res.Status, res.Message, res.Facts)
	}
}
