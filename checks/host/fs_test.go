package host_test

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/report"
)

// tree is a temporary directory and the FS rooted at it.
type tree struct {
	t   *testing.T
	dir string
	fs  host.FS
}

func newTree(t *testing.T) *tree {
	t.Helper()
	dir := t.TempDir()
	fsys, err := host.NewFS(dir)
	if err != nil {
		t.Fatalf("NewFS(%s): %v", dir, err)
	}
	return &tree{t: t, dir: dir, fs: fsys}
}

// real returns the real path of a name inside the tree.
func (tr *tree) real(name string) string { return filepath.Join(tr.dir, filepath.FromSlash(name)) }

func (tr *tree) mkdir(name string) {
	tr.t.Helper()
	if err := os.MkdirAll(tr.real(name), 0o755); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) write(name, content string) {
	tr.t.Helper()
	tr.mkdir(filepath.Dir(name))
	if err := os.WriteFile(tr.real(name), []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) symlink(name, target string) {
	tr.t.Helper()
	tr.mkdir(filepath.Dir(name))
	if err := os.Symlink(target, tr.real(name)); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) read(name string) (string, error) {
	data, err := host.ReadFile(tr.fs, name)
	return string(data), err
}

func (tr *tree) mustRead(name, want string) {
	tr.t.Helper()
	got, err := tr.read(name)
	if err != nil {
		tr.t.Fatalf("ReadFile(%s): %v", name, err)
	}
	if got != want {
		tr.t.Fatalf("ReadFile(%s) = %q, want %q", name, got, want)
	}
}

// within runs f in a goroutine and fails the test if it has not returned after limit: the
// operations under test must never block.
func within(t *testing.T, limit time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return within %v", what, limit)
	}
}

func TestAbsoluteSymlinkResolvesInsideRoot(t *testing.T) {
	tr := newTree(t)
	tr.write("/usr/y", "inside the root")
	tr.symlink("/etc/x", "/usr/y")
	tr.mustRead("/etc/x", "inside the root")

	// /etc/passwd exists on the machine running the test but not in the tree: a link to it
	// must not reach the real file.
	if _, err := os.Stat("/etc/passwd"); err != nil {
		t.Skip("the test machine has no /etc/passwd")
	}
	tr.symlink("/etc/pw", "/etc/passwd")
	got, err := tr.read("/etc/pw")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile(/etc/pw -> /etc/passwd) = %q, %v; want fs.ErrNotExist (the real file must not be read)", got, err)
	}
	if _, err := tr.fs.Stat("/etc/pw"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat(/etc/pw) error = %v, want fs.ErrNotExist", err)
	}
	// Once the tree has its own /etc/passwd, that one is read.
	tr.write("/etc/passwd", "root:x:0:0:tree:/root:/bin/sh\n")
	tr.mustRead("/etc/pw", "root:x:0:0:tree:/root:/bin/sh\n")
}

func TestRelativeSymlinks(t *testing.T) {
	tr := newTree(t)
	tr.write("/usr/y", "why")
	tr.symlink("/etc/rel", "../usr/y")
	tr.symlink("/etc/same", "rel")         // relative to /etc, a chain of two
	tr.symlink("/etc/dot", "./../usr/./y") // redundant elements
	tr.mustRead("/etc/rel", "why")
	tr.mustRead("/etc/same", "why")
	tr.mustRead("/etc/dot", "why")
	// A relative link inside the root directory itself.
	tr.symlink("/top", "usr/y")
	tr.mustRead("/top", "why")
}

func TestSymlinkedDirectoriesInPath(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/ssh/sshd_config", "PermitRootLogin no\n")
	tr.write("/usr/y", "why")
	tr.write("/usr/lib/z", "zed")
	tr.symlink("/conf", "/etc")      // absolute link to a directory
	tr.symlink("/conf2", "etc/ssh")  // relative link to a directory
	tr.symlink("/a/b", "../conf")    // a link to a link
	tr.symlink("/l", "/usr/lib")     // used with ".." below
	tr.symlink("/etc/up", "../conf") // /etc/up -> /conf -> /etc: a directory cycle that is not a loop for a finite path

	tr.mustRead("/conf/ssh/sshd_config", "PermitRootLogin no\n")
	tr.mustRead("/conf2/sshd_config", "PermitRootLogin no\n")
	tr.mustRead("/a/b/ssh/sshd_config", "PermitRootLogin no\n")
	tr.mustRead("/etc/up/up/up/ssh/sshd_config", "PermitRootLogin no\n")
	// ".." after a symbolic link applies to the link's target, as in the kernel:
	// /l/.. is /usr, not /.
	tr.mustRead("/l/../y", "why")
	tr.mustRead("/l/z", "zed")

	names, err := tr.fs.ReadDir("/conf2")
	if err != nil || !slices.Equal(names, []string{"sshd_config"}) {
		t.Fatalf("ReadDir(/conf2) = %v, %v", names, err)
	}
}

func TestStatFollowsLstatDoesNot(t *testing.T) {
	tr := newTree(t)
	tr.write("/usr/y", "12345")
	tr.symlink("/etc/x", "/usr/y")
	tr.symlink("/d", "/usr")

	st, err := tr.fs.Stat("/etc/x")
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsRegular() || st.Size != 5 || st.Name != "x" || st.Mode&fs.ModeSymlink != 0 {
		t.Fatalf("Stat(/etc/x) = %+v, want the regular 5-byte target named x", st)
	}
	lst, err := tr.fs.Lstat("/etc/x")
	if err != nil {
		t.Fatal(err)
	}
	if lst.Mode&fs.ModeSymlink == 0 || lst.IsRegular() || lst.Name != "x" {
		t.Fatalf("Lstat(/etc/x) = %+v, want the symlink itself", lst)
	}
	// Lstat follows links in the middle of the path but not the last element.
	lst, err = tr.fs.Lstat("/d/y")
	if err != nil || !lst.IsRegular() {
		t.Fatalf("Lstat(/d/y) = %+v, %v; want the regular file behind the directory link", lst, err)
	}
	lst, err = tr.fs.Lstat("/d")
	if err != nil || lst.Mode&fs.ModeSymlink == 0 {
		t.Fatalf("Lstat(/d) = %+v, %v; want a symlink", lst, err)
	}
	st, err = tr.fs.Stat("/d")
	if err != nil || !st.IsDir() {
		t.Fatalf("Stat(/d) = %+v, %v; want a directory", st, err)
	}
	// The root itself.
	st, err = tr.fs.Stat("/")
	if err != nil || !st.IsDir() {
		t.Fatalf("Stat(/) = %+v, %v", st, err)
	}
	// A dangling link: Lstat works, Stat does not.
	tr.symlink("/dangling", "/nowhere")
	if _, err := tr.fs.Lstat("/dangling"); err != nil {
		t.Fatalf("Lstat(dangling) = %v", err)
	}
	if _, err := tr.fs.Stat("/dangling"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat(dangling) error = %v, want fs.ErrNotExist", err)
	}
}

func TestReadlinkReturnsStoredTarget(t *testing.T) {
	tr := newTree(t)
	tr.write("/usr/y", "y")
	for name, target := range map[string]string{
		"/etc/abs":      "/usr/y",
		"/etc/rel":      "../usr/y",
		"/etc/dangling": "/does/not/exist",
		"/etc/escape":   "../../../../etc/passwd",
	} {
		tr.symlink(name, target)
		got, err := tr.fs.Readlink(name)
		if err != nil || got != target {
			t.Errorf("Readlink(%s) = %q, %v; want %q", name, got, err, target)
		}
	}
	// Through a symlinked directory.
	tr.symlink("/e", "/etc")
	if got, err := tr.fs.Readlink("/e/abs"); err != nil || got != "/usr/y" {
		t.Errorf("Readlink(/e/abs) = %q, %v", got, err)
	}
	if _, err := tr.fs.Readlink("/usr/y"); err == nil {
		t.Error("Readlink of a regular file succeeded")
	}
	if _, err := tr.fs.Readlink("/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Readlink(/missing) error = %v, want fs.ErrNotExist", err)
	}
}

func TestSymlinkLoops(t *testing.T) {
	tr := newTree(t)
	tr.symlink("/a", "b")
	tr.symlink("/b", "/a")
	tr.symlink("/self", "self")
	tr.symlink("/dirloop", "/dirloop/x")
	// A chain of 45 links: /c0 -> /c1 -> ... -> /c45 (a file).
	const chain = 45
	for i := 0; i < chain; i++ {
		tr.symlink("/c"+strconv.Itoa(i), "/c"+strconv.Itoa(i+1))
	}
	tr.write("/c"+strconv.Itoa(chain), "end of chain")

	ops := map[string]func(string) error{
		"ReadFile": func(n string) error { _, err := host.ReadFile(tr.fs, n); return err },
		"Stat":     func(n string) error { _, err := tr.fs.Stat(n); return err },
		"ReadDir":  func(n string) error { _, err := tr.fs.ReadDir(n); return err },
		"Lstat/":   func(n string) error { _, err := tr.fs.Lstat(n + "/x"); return err },
	}
	for _, name := range []string{"/a", "/b", "/self", "/dirloop", "/c0"} {
		for opName, op := range ops {
			var err error
			start := time.Now()
			within(t, 5*time.Second, opName+"("+name+")", func() { err = op(name) })
			if !errors.Is(err, host.ErrSymlinkLoop) {
				t.Errorf("%s(%s) error = %v, want ErrSymlinkLoop", opName, name, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s(%s) took %v", opName, name, d)
			}
			reason, skip := checks.Classify(err)
			if reason != report.ReasonSymlinkLoop || skip {
				t.Errorf("Classify(%v) = %s, %v; want symlink_loop, error", err, reason, skip)
			}
		}
	}
	// Lstat of the loop itself does not follow it.
	if _, err := tr.fs.Lstat("/a"); err != nil {
		t.Errorf("Lstat(/a) = %v", err)
	}
	// 40 links are allowed, as in the kernel: /c5 is 40 links away from the file.
	tr.mustRead("/c5", "end of chain")
	if _, err := tr.read("/c4"); !errors.Is(err, host.ErrSymlinkLoop) {
		t.Errorf("41 links: error = %v, want ErrSymlinkLoop", err)
	}
}

func TestSymlinkEscapingRoot(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/shadow", "tree shadow")
	tr.symlink("/etc/esc", "../../../etc/passwd")
	tr.symlink("/etc/sub/esc2", "../../..")
	tr.symlink("/etc/sneaky", "../etc/../../etc/shadow")
	for _, name := range []string{"/etc/esc", "/etc/sub/esc2/etc/passwd", "/etc/sneaky", "/../etc/shadow", "/etc/../../etc/shadow"} {
		got, err := tr.read(name)
		if !errors.Is(err, host.ErrEscapesRoot) {
			t.Errorf("ReadFile(%s) = %q, %v; want ErrEscapesRoot", name, got, err)
		}
		reason, skip := checks.Classify(err)
		if reason != report.ReasonPathEscape || skip {
			t.Errorf("Classify(%v) = %s, %v; want path_escape, error", err, reason, skip)
		}
	}
	if _, err := tr.fs.Stat("/etc/esc"); !errors.Is(err, host.ErrEscapesRoot) {
		t.Errorf("Stat(/etc/esc) error = %v, want ErrEscapesRoot", err)
	}
	// ".." that stays inside the root is fine.
	tr.mustRead("/etc/sub/../shadow", "tree shadow")
	// An absolute target with ".." never reaches the real root either.
	tr.symlink("/etc/abs-up", "/../../../etc/passwd")
	if got, err := tr.read("/etc/abs-up"); err == nil {
		t.Errorf("ReadFile(/etc/abs-up -> /../../../etc/passwd) = %q; want an error", got)
	}
}

func TestReadFileHugeSparseFile(t *testing.T) {
	tr := newTree(t)
	tr.write("/var/log/huge", "")
	if err := os.Truncate(tr.real("/var/log/huge"), 1<<30); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	data, err := host.ReadFile(tr.fs, "/var/log/huge")
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, host.ErrTooLarge) {
		t.Fatalf("ReadFile(1 GiB) = %d bytes, %v; want ErrTooLarge", len(data), err)
	}
	if data != nil {
		t.Errorf("ReadFile returned %d bytes with ErrTooLarge", len(data))
	}
	if elapsed > 2*time.Second {
		t.Errorf("ReadFile(1 GiB sparse) took %v; it must not read the file", elapsed)
	}
	if delta := after.TotalAlloc - before.TotalAlloc; delta > 64<<20 {
		t.Errorf("ReadFile(1 GiB sparse) allocated %d MiB", delta>>20)
	}
	if reason, skip := checks.Classify(err); reason != report.ReasonTooLarge || skip {
		t.Errorf("Classify(%v) = %s, %v; want too_large", err, reason, skip)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "/var/log/huge" {
		t.Errorf("error %v does not name the path", err)
	}
	// Through ReadFileLimit with an explicit, larger limit, the size still decides.
	if _, err := host.ReadFileLimit(tr.fs, "/var/log/huge", 1<<29); !errors.Is(err, host.ErrTooLarge) {
		t.Errorf("ReadFileLimit(1 GiB, 512 MiB) error = %v", err)
	}
}

func TestReadFileLimitBoundary(t *testing.T) {
	tr := newTree(t)
	content := strings.Repeat("x", 100)
	tr.write("/f", content)
	tr.write("/empty", "")
	tests := []struct {
		limit   int64
		tooBig  bool
		comment string
	}{
		{100, false, "exactly the limit"},
		{101, false, "under the limit"},
		{99, true, "one byte over"},
		{0, true, "zero limit"},
		{math.MaxInt64, false, "no practical limit (limit+1 must not overflow)"},
	}
	for _, tt := range tests {
		data, err := host.ReadFileLimit(tr.fs, "/f", tt.limit)
		if tt.tooBig {
			if !errors.Is(err, host.ErrTooLarge) || data != nil {
				t.Errorf("%s: ReadFileLimit(100 bytes, %d) = %d bytes, %v; want ErrTooLarge", tt.comment, tt.limit, len(data), err)
			}
			continue
		}
		if err != nil || string(data) != content {
			t.Errorf("%s: ReadFileLimit(100 bytes, %d) = %d bytes, %v", tt.comment, tt.limit, len(data), err)
		}
	}
	if data, err := host.ReadFileLimit(tr.fs, "/empty", 0); err != nil || len(data) != 0 {
		t.Errorf("ReadFileLimit(empty, 0) = %q, %v", data, err)
	}
	// ReadFile's default cap is MaxFileSize.
	tr.write("/max", "")
	if err := os.Truncate(tr.real("/max"), host.MaxFileSize); err != nil {
		t.Fatal(err)
	}
	if data, err := host.ReadFile(tr.fs, "/max"); err != nil || len(data) != host.MaxFileSize {
		t.Errorf("ReadFile(MaxFileSize bytes) = %d bytes, %v", len(data), err)
	}
	if err := os.Truncate(tr.real("/max"), host.MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := host.ReadFile(tr.fs, "/max"); !errors.Is(err, host.ErrTooLarge) {
		t.Errorf("ReadFile(MaxFileSize+1 bytes) error = %v, want ErrTooLarge", err)
	}
}

func TestReadFileLimitOnZeroSizeFiles(t *testing.T) {
	// procfs reports size 0 for files with content; the limit must still apply to what is
	// actually read, and the content must be read in full.
	fsys, err := host.NewFS("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	st, err := fsys.Stat("/self/maps")
	if err != nil || st.Size != 0 {
		t.Skipf("/proc/self/maps: %+v, %v", st, err)
	}
	data, err := host.ReadFile(fsys, "/self/maps")
	if err != nil || len(data) == 0 {
		t.Fatalf("ReadFile(/proc/self/maps) = %d bytes, %v", len(data), err)
	}
	if _, err := host.ReadFileLimit(fsys, "/self/maps", 10); !errors.Is(err, host.ErrTooLarge) {
		t.Fatalf("ReadFileLimit(/proc/self/maps, 10) error = %v, want ErrTooLarge", err)
	}
}

func TestOpenRefusesFIFO(t *testing.T) {
	tr := newTree(t)
	tr.mkdir("/run")
	if err := syscall.Mkfifo(tr.real("/run/fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tr.symlink("/etc/link-to-fifo", "/run/fifo")
	for _, name := range []string{"/run/fifo", "/etc/link-to-fifo"} {
		var err error
		within(t, 3*time.Second, "Open("+name+")", func() {
			var f io.ReadCloser
			f, err = tr.fs.Open(name)
			if f != nil {
				f.Close()
			}
		})
		if !errors.Is(err, host.ErrNotRegular) {
			t.Errorf("Open(%s) error = %v, want ErrNotRegular", name, err)
		}
		within(t, 3*time.Second, "ReadFile("+name+")", func() { _, err = tr.read(name) })
		if !errors.Is(err, host.ErrNotRegular) {
			t.Errorf("ReadFile(%s) error = %v, want ErrNotRegular", name, err)
		}
		// ReadDir and Glob on a FIFO must not open it either (a blocking open would hang).
		within(t, 3*time.Second, "ReadDir("+name+")", func() { _, err = tr.fs.ReadDir(name) })
		if !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("ReadDir(%s) error = %v, want ENOTDIR", name, err)
		}
		var matches []string
		within(t, 3*time.Second, "Glob("+name+"/*)", func() { matches, err = host.Glob(tr.fs, name+"/*") })
		if err != nil || len(matches) != 0 {
			t.Errorf("Glob(%s/*) = %v, %v; want no matches", name, matches, err)
		}
	}
	st, err := tr.fs.Stat("/run/fifo")
	if err != nil || st.Mode&fs.ModeNamedPipe == 0 || st.IsRegular() {
		t.Errorf("Stat(fifo) = %+v, %v", st, err)
	}
}

func TestOpenFIFODoesNotWakeWriter(t *testing.T) {
	// Opening a FIFO for reading releases a writer blocked in open(2). Refusing a FIFO
	// must happen before it is opened, so a waiting writer stays blocked.
	tr := newTree(t)
	fifo := tr.real("/fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	opened := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until a reader opens
		if err == nil {
			f.Close()
		}
		opened <- err
	}()
	t.Cleanup(func() {
		// Release the writer.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-opened
			r.Close()
		}
	})
	time.Sleep(50 * time.Millisecond) // let the writer reach open(2); harmless if it has not
	for i := 0; i < 3; i++ {
		if _, err := tr.fs.Open("/fifo"); !errors.Is(err, host.ErrNotRegular) {
			t.Fatalf("Open(fifo) error = %v, want ErrNotRegular", err)
		}
	}
	select {
	case err := <-opened:
		opened <- err
		t.Fatalf("the writer's open returned (%v): Open opened the FIFO before refusing it", err)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestOpenRefusesDirectory(t *testing.T) {
	tr := newTree(t)
	tr.mkdir("/etc/ssh")
	tr.symlink("/sshdir", "/etc/ssh")
	for _, name := range []string{"/etc/ssh", "/sshdir", "/"} {
		if _, err := tr.fs.Open(name); !errors.Is(err, host.ErrNotRegular) {
			t.Errorf("Open(%s) error = %v, want ErrNotRegular", name, err)
		}
	}
}

func TestOpenRefusesDevice(t *testing.T) {
	testenv.RequireRoot(t)
	tr := newTree(t)
	tr.mkdir("/dev")
	// /dev/zero (1,5): reading it would never end.
	if err := syscall.Mknod(tr.real("/dev/zero"), syscall.S_IFCHR|0o666, int(mkdev(1, 5))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	var err error
	within(t, 3*time.Second, "Open(/dev/zero)", func() { _, err = tr.fs.Open("/dev/zero") })
	if !errors.Is(err, host.ErrNotRegular) {
		t.Fatalf("Open(char device) error = %v, want ErrNotRegular", err)
	}
	within(t, 3*time.Second, "ReadFile(/dev/zero)", func() { _, err = tr.read("/dev/zero") })
	if !errors.Is(err, host.ErrNotRegular) {
		t.Fatalf("ReadFile(char device) error = %v, want ErrNotRegular", err)
	}
	within(t, 3*time.Second, "ReadDir(/dev/zero)", func() { _, err = tr.fs.ReadDir("/dev/zero") })
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("ReadDir(char device) error = %v, want ENOTDIR", err)
	}
	st, err := tr.fs.Stat("/dev/zero")
	if err != nil || st.Mode&fs.ModeCharDevice == 0 {
		t.Fatalf("Stat(char device) = %+v, %v", st, err)
	}
}

func mkdev(major, minor uint32) uint64 {
	return uint64(major)<<8 | uint64(minor)
}

func TestReadDirSorted(t *testing.T) {
	tr := newTree(t)
	for _, n := range []string{"b", "a", "C", "10", "2", ".hidden", "zz"} {
		tr.write("/d/"+n, n)
	}
	tr.mkdir("/d/sub")
	tr.symlink("/d/link", "/nowhere")
	got, err := tr.fs.ReadDir("/d")
	want := []string{".hidden", "10", "2", "C", "a", "b", "link", "sub", "zz"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ReadDir(/d) = %v, %v; want %v", got, err, want)
	}
	if got, err := tr.fs.ReadDir("/d/sub"); err != nil || len(got) != 0 {
		t.Errorf("ReadDir(empty) = %v, %v", got, err)
	}
	if _, err := tr.fs.ReadDir("/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(missing) error = %v, want fs.ErrNotExist", err)
	}
	if _, err := tr.fs.ReadDir("/d/a"); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("ReadDir(file) error = %v, want ENOTDIR", err)
	}
	root, err := tr.fs.ReadDir("/")
	if err != nil || !slices.Equal(root, []string{"d"}) {
		t.Errorf("ReadDir(/) = %v, %v", root, err)
	}
}

func TestGlob(t *testing.T) {
	tr := newTree(t)
	for _, n := range []string{"b.conf", "a.conf", "c.txt", "z.conf.bak"} {
		tr.write("/etc/ssh/sshd_config.d/"+n, n)
	}
	tr.symlink("/ssh", "/etc/ssh")
	tr.write("/etc/file", "f")

	tests := []struct {
		pattern string
		want    []string
	}{
		{"/etc/ssh/sshd_config.d/*.conf", []string{"/etc/ssh/sshd_config.d/a.conf", "/etc/ssh/sshd_config.d/b.conf"}},
		{"/etc/ssh/sshd_config.d/?.txt", []string{"/etc/ssh/sshd_config.d/c.txt"}},
		{"/etc/ssh/sshd_config.d/[ab].conf", []string{"/etc/ssh/sshd_config.d/a.conf", "/etc/ssh/sshd_config.d/b.conf"}},
		{"/etc/ssh/sshd_config.d/*", []string{"/etc/ssh/sshd_config.d/a.conf", "/etc/ssh/sshd_config.d/b.conf", "/etc/ssh/sshd_config.d/c.txt", "/etc/ssh/sshd_config.d/z.conf.bak"}},
		{"/ssh/sshd_config.d/*.conf", []string{"/ssh/sshd_config.d/a.conf", "/ssh/sshd_config.d/b.conf"}},
		{"/etc/ssh/sshd_config.d/a.conf", []string{"/etc/ssh/sshd_config.d/a.conf"}},
		{"/etc/ssh/sshd_config.d/*.none", nil},
		{"/etc/missing.d/*.conf", nil},
		{"/etc/file/*", nil}, // a file where a directory is expected
	}
	for _, tt := range tests {
		got, err := host.Glob(tr.fs, tt.pattern)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Glob(%s) = %v, %v; want %v", tt.pattern, got, err, tt.want)
		}
	}
	for _, bad := range []string{"/etc/*/sshd_config", "/etc/ss?/x", "/[e]tc/x", "/etc/ssh/sshd_config.d/[", "etc/*"} {
		if got, err := host.Glob(tr.fs, bad); err == nil {
			t.Errorf("Glob(%s) = %v, nil; want an error", bad, got)
		}
	}
}

func TestFileInfoPerm(t *testing.T) {
	tr := newTree(t)
	tests := []struct {
		name string
		mode os.FileMode
		want uint32
	}{
		{"/plain", 0o640, 0o640},
		{"/suid", 0o755 | os.ModeSetuid, 0o4755},
		{"/sgid", 0o750 | os.ModeSetgid, 0o2750},
		{"/both", 0o711 | os.ModeSetuid | os.ModeSetgid, 0o6711},
		{"/none", 0, 0},
	}
	for _, tt := range tests {
		tr.write(tt.name, "x")
		if err := os.Chmod(tr.real(tt.name), tt.mode); err != nil {
			t.Fatal(err)
		}
		st, err := tr.fs.Stat(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Perm(); got != tt.want {
			t.Errorf("Stat(%s).Perm() = %#o, want %#o", tt.name, got, tt.want)
		}
	}
	tr.mkdir("/tmp")
	if err := os.Chmod(tr.real("/tmp"), 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	st, err := tr.fs.Stat("/tmp")
	if err != nil || st.Perm() != 0o1777 || !st.IsDir() {
		t.Errorf("Stat(/tmp) = %+v (perm %#o), %v; want a 1777 directory", st, st.Perm(), err)
	}
	// Perm on a hand-made FileInfo, independent of the filesystem.
	fi := host.FileInfo{Mode: fs.ModeDir | fs.ModeSetgid | fs.ModeSticky | 0o755}
	if fi.Perm() != 0o3755 || !fi.IsDir() || fi.IsRegular() {
		t.Errorf("FileInfo{%v}.Perm() = %#o", fi.Mode, fi.Perm())
	}
}

func TestFileInfoOwnership(t *testing.T) {
	testenv.RequireRoot(t)
	tr := newTree(t)
	tr.write("/etc/shadow", "x")
	if err := os.Chown(tr.real("/etc/shadow"), 1234, 5678); err != nil {
		t.Skipf("chown: %v", err)
	}
	tr.symlink("/link", "/etc/shadow")
	if err := os.Lchown(tr.real("/link"), 4321, 8765); err != nil {
		t.Skipf("lchown: %v", err)
	}
	st, err := tr.fs.Stat("/link")
	if err != nil || st.UID != 1234 || st.GID != 5678 {
		t.Errorf("Stat(/link) = uid %d gid %d, %v; want the target's 1234:5678", st.UID, st.GID, err)
	}
	lst, err := tr.fs.Lstat("/link")
	if err != nil || lst.UID != 4321 || lst.GID != 8765 {
		t.Errorf("Lstat(/link) = uid %d gid %d, %v; want the link's 4321:8765", lst.UID, lst.GID, err)
	}
	modTime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(tr.real("/etc/shadow"), modTime, modTime); err != nil {
		t.Fatal(err)
	}
	st, err = tr.fs.Stat("/etc/shadow")
	if err != nil || !st.ModTime.Equal(modTime) {
		t.Errorf("Stat ModTime = %v, %v; want %v", st.ModTime, err, modTime)
	}
}

func TestNamesMustBeAbsolute(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/x", "x")
	t.Chdir(tr.dir) // a relative name must not be resolved against the working directory either
	for _, name := range []string{"etc/x", "", ".", "./etc/x", "../etc/x", "x"} {
		if _, err := tr.fs.Open(name); err == nil {
			t.Errorf("Open(%q) succeeded", name)
		}
		if _, err := tr.fs.Stat(name); err == nil {
			t.Errorf("Stat(%q) succeeded", name)
		}
		if _, err := tr.fs.Lstat(name); err == nil {
			t.Errorf("Lstat(%q) succeeded", name)
		}
		if _, err := tr.fs.ReadDir(name); err == nil {
			t.Errorf("ReadDir(%q) succeeded", name)
		}
		if _, err := tr.fs.Readlink(name); err == nil {
			t.Errorf("Readlink(%q) succeeded", name)
		}
	}
	// Extra slashes and dots in an absolute name are fine.
	tr.mustRead("//etc/./x", "x")
	tr.mustRead("/etc//x", "x")
}

func TestMissingAndNotDirectory(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/x", "x")
	tr.symlink("/lx", "/etc/x")
	for _, name := range []string{"/etc/missing", "/missing/x", "/etc/x/y", "/lx/y"} {
		_, err := tr.read(name)
		if err == nil {
			t.Errorf("ReadFile(%s) succeeded", name)
			continue
		}
		reason, skip := checks.Classify(err)
		if reason != report.ReasonNotFound || !skip {
			t.Errorf("ReadFile(%s): Classify(%v) = %s, %v; want not_found skip", name, err, reason, skip)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != name {
			t.Errorf("ReadFile(%s): error %v does not carry the name asked for", name, err)
		}
	}
	if _, err := host.NewFS(filepath.Join(tr.dir, "nope")); err == nil {
		t.Error("NewFS(missing dir) succeeded")
	}
}

func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	tr := newTree(t)
	tr.write("/secret", "x")
	if err := os.Chmod(tr.real("/secret"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := tr.read("/secret")
	if reason, skip := checks.Classify(err); reason != report.ReasonNeedsRoot || !skip {
		t.Errorf("Classify(%v) = %s, %v; want needs_root skip", err, reason, skip)
	}
}
