package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/report"
)

func kernelRelease(t *testing.T) string {
	t.Helper()
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

func TestNewLive(t *testing.T) {
	release := kernelRelease(t)
	for _, root := range []string{"", "/", "//", "/."} {
		h, err := host.New(host.Options{Root: root})
		if err != nil {
			t.Fatalf("New(Root %q): %v", root, err)
		}
		if !h.Live() {
			t.Errorf("New(Root %q).Live() = false", root)
		}
		proc, err := h.Proc()
		if err != nil {
			t.Fatalf("New(Root %q).Proc(): %v", root, err)
		}
		data, err := host.ReadFile(proc, "/sys/kernel/osrelease")
		if err != nil || strings.TrimSpace(string(data)) != release {
			t.Errorf("procfs osrelease = %q, %v; want %q", data, err, release)
		}
		sys, err := h.Sys()
		if err != nil {
			t.Fatalf("New(Root %q).Sys(): %v", root, err)
		}
		if st, err := sys.Stat("/kernel"); err != nil || !st.IsDir() {
			t.Errorf("sysfs /kernel = %+v, %v", st, err)
		}
		if st, err := h.FS().Stat("/proc"); err != nil || !st.IsDir() {
			t.Errorf("FS /proc = %+v, %v", st, err)
		}
		out, err := h.Run(context.Background(), "uname", "-r")
		if err != nil || strings.TrimSpace(string(out.Stdout)) != release {
			t.Errorf("Run(uname -r) = %q, %v", out.Stdout, err)
		}
	}
}

func TestNewOptionsReachRunner(t *testing.T) {
	h, err := host.New(host.Options{CommandTimeout: 200 * time.Millisecond, MaxOutput: 100})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := h.Run(context.Background(), "sleep", "60"); !errors.Is(err, host.ErrTimeout) {
		t.Errorf("Run(sleep 60) with a 200 ms timeout: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run(sleep 60) returned after %v", d)
	}
	out, err := h.Run(context.Background(), "head", "-c", "1000", "/dev/zero")
	if err != nil || len(out.Stdout) != 100 || !out.Truncated {
		t.Errorf("MaxOutput 100: len %d, Truncated %v, %v", len(out.Stdout), out.Truncated, err)
	}
}

func TestNewOfflineRoot(t *testing.T) {
	root := t.TempDir()
	// Plain proc/ and sys/ directories that look like the real thing.
	for _, f := range []string{"proc/sys/kernel/osrelease", "sys/kernel/security/lsm", "etc/os-release"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("fake\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := host.New(host.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if h.Live() {
		t.Error("offline root reports Live")
	}
	if p, err := h.Proc(); !errors.Is(err, host.ErrNotLive) || p != nil {
		t.Errorf("Proc() = %v, %v; want ErrNotLive", p, err)
	}
	if s, err := h.Sys(); !errors.Is(err, host.ErrNotLive) || s != nil {
		t.Errorf("Sys() = %v, %v; want ErrNotLive", s, err)
	}
	_, err = h.Run(context.Background(), "true")
	if !errors.Is(err, host.ErrNotLive) {
		t.Errorf("Run() error = %v; want ErrNotLive", err)
	}
	if reason, skip := checks.Classify(err); reason != report.ReasonNotLive || !skip {
		t.Errorf("Classify(%v) = %s, %v; want not_live skip", err, reason, skip)
	}
	data, err := host.ReadFile(h.FS(), "/etc/os-release")
	if err != nil || string(data) != "fake\n" {
		t.Errorf("FS reads the root: %q, %v", data, err)
	}
	// The offline FS is the tree, not the machine.
	if _, err := h.FS().Stat("/proc/self"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("offline FS Stat(/proc/self) error = %v", err)
	}

	// A relative root is resolved against the working directory.
	t.Chdir(root)
	h, err = host.New(host.Options{Root: "."})
	if err != nil || h.Live() {
		t.Fatalf("New(Root .) = live %v, %v", h != nil && h.Live(), err)
	}
	if data, err := host.ReadFile(h.FS(), "/etc/os-release"); err != nil || string(data) != "fake\n" {
		t.Errorf("relative root FS: %q, %v", data, err)
	}
}

func TestNewOfflineRootWithProcSymlink(t *testing.T) {
	// An image whose proc and sys are symbolic links to the real ones (or a hostile tree
	// built that way) must not be given the auditing machine's procfs and sysfs.
	root := t.TempDir()
	for _, name := range []string{"proc", "sys"} {
		if err := os.Symlink("/"+name, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := host.New(host.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := h.Proc(); !errors.Is(err, host.ErrNotLive) {
		t.Errorf("Proc() through a symlink to /proc = %v, %v; want ErrNotLive", p, err)
	}
	if s, err := h.Sys(); !errors.Is(err, host.ErrNotLive) {
		t.Errorf("Sys() through a symlink to /sys = %v, %v; want ErrNotLive", s, err)
	}
}

func TestNewBadRoot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{file, filepath.Join(dir, "missing"), filepath.Join(file, "sub")} {
		if h, err := host.New(host.Options{Root: root}); err == nil {
			t.Errorf("New(Root %s) = %v, nil; want an error", root, h)
		}
	}
}

func TestNewOfflineRootWithMountedProcfs(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	proc := filepath.Join(root, "proc")
	if err := os.Mkdir(proc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("proc", proc, "proc", 0, ""); err != nil {
		testenv.Unavailable(t, "mount procfs: "+err.Error())
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(proc, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", proc, err)
		}
	})
	if err := os.Mkdir(filepath.Join(root, "sys"), 0o755); err != nil {
		t.Fatal(err)
	}

	h, err := host.New(host.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if h.Live() {
		t.Error("an offline root with procfs mounted reports Live")
	}
	p, err := h.Proc()
	if err != nil {
		t.Fatalf("Proc() with a real procfs at <root>/proc: %v", err)
	}
	data, err := host.ReadFile(p, "/sys/kernel/osrelease")
	if err != nil || strings.TrimSpace(string(data)) != kernelRelease(t) {
		t.Errorf("osrelease through the mounted procfs = %q, %v", data, err)
	}
	// /proc/self is a symbolic link to the reader's pid: relative to the procfs root.
	if st, err := p.Stat("/self/status"); err != nil || !st.IsRegular() {
		t.Errorf("Stat(/self/status) = %+v, %v", st, err)
	}
	// sys/ is a plain directory here: not sysfs.
	if _, err := h.Sys(); !errors.Is(err, host.ErrNotLive) {
		t.Errorf("Sys() = %v; want ErrNotLive", err)
	}
	// Commands still need the running system.
	if _, err := h.Run(context.Background(), "true"); !errors.Is(err, host.ErrNotLive) {
		t.Errorf("Run() = %v; want ErrNotLive", err)
	}
}
