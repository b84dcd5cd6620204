package host

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestKernelFS covers the FS the live system uses: the kernel resolves links, and the same
// refusals as rootFS hold (FIFOs, directories, loops), with messages naming the path as
// the audited system sees it.
func TestKernelFS(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "file"), []byte("hello\n"), 0o640))
	must(os.Symlink("file", filepath.Join(dir, "link")))
	must(os.Symlink("loop2", filepath.Join(dir, "loop1")))
	must(os.Symlink("loop1", filepath.Join(dir, "loop2")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	k := newKernelFS(dir, "/proc")

	data, err := ReadFile(k, "/link")
	if err != nil || string(data) != "hello\n" {
		t.Fatalf("ReadFile through a link = %q, %v", data, err)
	}
	if fi, err := k.Stat("/link"); err != nil || !fi.IsRegular() || fi.Perm() != 0o640 {
		t.Errorf("Stat(/link) = %+v, %v", fi, err)
	}
	if fi, err := k.Lstat("/link"); err != nil || fi.Mode&fs.ModeSymlink == 0 {
		t.Errorf("Lstat(/link) = %+v, %v; want a symlink", fi, err)
	}
	if target, err := k.Readlink("/link"); err != nil || target != "file" {
		t.Errorf("Readlink = %q, %v", target, err)
	}
	if names, err := k.ReadDir("/"); err != nil || strings.Join(names, ",") != "fifo,file,link,loop1,loop2,sub" {
		t.Errorf("ReadDir = %v, %v", names, err)
	}
	for name, want := range map[string]error{
		"/fifo":    ErrNotRegular,
		"/sub":     ErrNotRegular,
		"/loop1":   syscall.ELOOP,
		"/missing": fs.ErrNotExist,
	} {
		_, err := k.Open(name)
		if !errors.Is(err, want) {
			t.Errorf("Open(%s) = %v, want %v", name, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "/proc"+name) {
			t.Errorf("Open(%s) error %q does not name /proc%s", name, err, name)
		}
	}
	if _, err := k.ReadDir("/fifo"); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("ReadDir(/fifo) = %v, want ENOTDIR without blocking", err)
	}
	if _, err := k.Open("relative"); err == nil {
		t.Error("a relative name was accepted")
	}
}
