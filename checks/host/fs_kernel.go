package host

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"
)

// kernelFS is an FS over a directory whose symbolic links the kernel may resolve itself:
// the running system's "/" (nothing lies above it to escape to) and kernel-generated trees
// (procfs, sysfs), whose links are relative or magic. It skips the per-element walk of
// rootFS, which costs several system calls per path, and is what a live audit reads
// thousands of /proc entries through.
type kernelFS struct {
	dir string
	at  string
}

// newKernelFS returns a kernelFS for dir; at is the path shown in messages (see NewFSAt).
func newKernelFS(dir, at string) *kernelFS { return &kernelFS{dir: dir, at: at} }

func (k *kernelFS) path(op, name string) (string, error) {
	if !path.IsAbs(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: errNotAbsolute}
	}
	return filepath.Join(k.dir, filepath.FromSlash(path.Clean(name))), nil
}

// fail rewrites an os error to name the file as the audited system sees it.
func (k *kernelFS) fail(op, name string, err error) error {
	display := name
	if k.at != "" {
		display = path.Join(k.at, name)
	}
	return &fs.PathError{Op: op, Path: display, Err: underlying(err)}
}

func (k *kernelFS) Open(name string) (io.ReadCloser, error) {
	p, err := k.path("open", name)
	if err != nil {
		return nil, err
	}
	// Refuse FIFOs and devices before opening them (see rootFS.Open).
	pre, err := os.Stat(p)
	if err != nil {
		return nil, k.fail("open", name, err)
	}
	if !pre.Mode().IsRegular() {
		return nil, k.fail("open", name, ErrNotRegular)
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, k.fail("open", name, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = ErrNotRegular
		}
		return nil, k.fail("open", name, err)
	}
	return f, nil
}

func (k *kernelFS) Stat(name string) (FileInfo, error) {
	p, err := k.path("stat", name)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return FileInfo{}, k.fail("stat", name, err)
	}
	return fileInfo(path.Base(name), fi), nil
}

func (k *kernelFS) Lstat(name string) (FileInfo, error) {
	p, err := k.path("lstat", name)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return FileInfo{}, k.fail("lstat", name, err)
	}
	return fileInfo(path.Base(name), fi), nil
}

func (k *kernelFS) ReadDir(name string) ([]string, error) {
	p, err := k.path("readdir", name)
	if err != nil {
		return nil, err
	}
	// O_DIRECTORY: a FIFO fails with ENOTDIR instead of blocking the open.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, k.fail("readdir", name, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, k.fail("readdir", name, err)
	}
	slices.Sort(names)
	return names, nil
}

func (k *kernelFS) Readlink(name string) (string, error) {
	p, err := k.path("readlink", name)
	if err != nil {
		return "", err
	}
	target, err := os.Readlink(p)
	if err != nil {
		return "", k.fail("readlink", name, err)
	}
	return target, nil
}
