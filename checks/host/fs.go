package host

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
)

// MaxFileSize is the default cap of ReadFile. Configuration files larger than this are
// refused with ErrTooLarge rather than read into memory.
const MaxFileSize = 8 << 20

// maxSymlinks bounds symlink resolution, as the kernel's MAXSYMLINKS does.
const maxSymlinks = 40

// Errors of the host layer. Checks classify them into skip and error reasons.
var (
	// ErrNotLive: the operation needs the running system and the host is an offline root.
	ErrNotLive = errors.New("needs the running system (offline root)")
	// ErrSymlinkLoop: resolving a path met more than 40 symbolic links.
	ErrSymlinkLoop = errors.New("too many levels of symbolic links")
	// ErrEscapesRoot: a relative symbolic link climbs above the audited root.
	ErrEscapesRoot = errors.New("symbolic link leads outside the audited root")
	// ErrTooLarge: a file or command output exceeds its size cap.
	ErrTooLarge = errors.New("exceeds the size limit")
	// ErrNotRegular: ReadFile was asked for a FIFO, device, socket or directory.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTimeout: a command exceeded its deadline and was killed.
	ErrTimeout = errors.New("command timed out")
	// ErrCommandNotFound: the command is not installed.
	ErrCommandNotFound = errors.New("command not found")

	errNotAbsolute = errors.New("path must be absolute")
)

// FileInfo describes a file. Ownership is numeric; checks never resolve it to names that
// could leave the machine.
type FileInfo struct {
	Name    string
	Size    int64
	Mode    fs.FileMode
	ModTime time.Time
	UID     uint32
	GID     uint32
}

// IsDir reports whether the file is a directory.
func (fi FileInfo) IsDir() bool { return fi.Mode.IsDir() }

// IsRegular reports whether the file is a regular file.
func (fi FileInfo) IsRegular() bool { return fi.Mode.IsRegular() }

// Perm returns the permission bits including setuid, setgid and sticky, as in `stat -c %a`.
func (fi FileInfo) Perm() uint32 {
	p := uint32(fi.Mode.Perm())
	if fi.Mode&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if fi.Mode&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if fi.Mode&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// FS is a read-only view of a file tree. Names are absolute and slash-separated within the
// tree ("/etc/shadow"). Symbolic links resolve inside the tree: an absolute target is
// relative to the tree's root, a relative target that climbs above the root is an error
// (ErrEscapesRoot), and more than 40 links is ErrSymlinkLoop.
type FS interface {
	// Open opens a regular file for reading; FIFOs, devices and sockets are refused with
	// ErrNotRegular so that a hostile tree cannot block or flood a check.
	Open(name string) (io.ReadCloser, error)
	// Stat describes a file, following symbolic links.
	Stat(name string) (FileInfo, error)
	// Lstat describes a file without following a final symbolic link.
	Lstat(name string) (FileInfo, error)
	// ReadDir returns the names in a directory, sorted.
	ReadDir(name string) ([]string, error)
	// Readlink returns the target of a symbolic link as stored.
	Readlink(name string) (string, error)
}

// ReadFile reads a whole regular file of at most MaxFileSize bytes.
func ReadFile(fsys FS, name string) ([]byte, error) {
	return ReadFileLimit(fsys, name, MaxFileSize)
}

// ReadFileLimit reads a whole regular file of at most limit bytes; a larger file is
// ErrTooLarge.
func ReadFileLimit(fsys FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)}
	// A file whose size is already known to exceed the limit is refused without reading
	// it. Files that report size 0 (procfs, sysfs) are still read up to the limit.
	if st, ok := f.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Size() > limit {
			return nil, tooLarge
		}
	}
	n := limit
	if n < math.MaxInt64 {
		n++ // one byte more than allowed tells a file of exactly limit bytes from a larger one
	}
	data, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, tooLarge
	}
	return data, nil
}

// Glob returns the names matching a path.Match pattern, sorted. Only the final element
// may contain wildcards (as in "/etc/ssh/sshd_config.d/*.conf"); a missing directory
// yields no matches.
func Glob(fsys FS, pattern string) ([]string, error) {
	dir, base := path.Split(pattern)
	if strings.ContainsAny(dir, "*?[") {
		return nil, fmt.Errorf("glob %s: wildcards are supported in the last element only", pattern)
	}
	if _, err := path.Match(base, ""); err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	names, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(base, n); ok {
			out = append(out, path.Join(dir, n))
		}
	}
	return out, nil
}

// rootFS is an FS over a real directory.
type rootFS struct {
	dir  string
	root *os.Root
	// at is where the tree is seen on the audited system ("/proc" for procfs); error
	// messages name files by that path.
	at string
}

// NewFS returns an FS rooted at dir, a real directory.
func NewFS(dir string) (FS, error) {
	return NewFSAt(dir, "")
}

// NewFSAt returns an FS rooted at dir whose errors name files as seen under the mount
// point at ("/proc/self/mountinfo" rather than "/self/mountinfo").
func NewFSAt(dir, at string) (FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", dir, err)
	}
	return &rootFS{dir: dir, root: root, at: at}, nil
}

// display is the name of a file in messages.
func (r *rootFS) display(name string) string {
	if r.at == "" {
		return name
	}
	return path.Join(r.at, name)
}

// rel turns a resolved absolute name into the os.Root-relative form.
func rel(resolved string) string {
	if resolved == "/" {
		return "."
	}
	return resolved[1:]
}

// resolve resolves name inside the root. With followLast false the final element is not
// followed. The result is an absolute, clean, symlink-free name (barring concurrent changes,
// which os.Root still confines to the root).
func (r *rootFS) resolve(op, name string, followLast bool) (string, error) {
	if !path.IsAbs(name) {
		return "", &fs.PathError{Op: op, Path: r.display(name), Err: errNotAbsolute}
	}
	pending := splitPath(name)
	resolved := "/"
	links := 0
	for len(pending) > 0 {
		elem := pending[0]
		pending = pending[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			if resolved == "/" {
				return "", &fs.PathError{Op: op, Path: r.display(name), Err: ErrEscapesRoot}
			}
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, elem)
		if len(pending) == 0 && !followLast {
			resolved = next
			break
		}
		fi, err := r.root.Lstat(rel(next))
		if err != nil {
			return "", &fs.PathError{Op: op, Path: r.display(name), Err: underlying(err)}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if len(pending) > 0 && !fi.IsDir() {
				return "", &fs.PathError{Op: op, Path: r.display(name), Err: syscall.ENOTDIR}
			}
			resolved = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &fs.PathError{Op: op, Path: r.display(name), Err: ErrSymlinkLoop}
		}
		target, err := r.root.Readlink(rel(next))
		if err != nil {
			return "", &fs.PathError{Op: op, Path: r.display(name), Err: underlying(err)}
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		pending = append(splitPath(target), pending...)
	}
	return resolved, nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// underlying strips the *PathError that os.Root adds, whose path is relative to the root
// and would confuse messages.
func underlying(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (r *rootFS) Open(name string) (io.ReadCloser, error) {
	resolved, err := r.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	// Refuse anything but a regular file before opening it: opening a FIFO wakes a writer
	// blocked on it, and opening a device runs its driver (a tape rewinds, a tty can become
	// the controlling terminal). The check after opening covers a concurrent swap.
	pre, err := r.root.Lstat(rel(resolved))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: r.display(name), Err: underlying(err)}
	}
	if !pre.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: r.display(name), Err: ErrNotRegular}
	}
	f, err := r.root.OpenFile(rel(resolved), os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: r.display(name), Err: underlying(err)}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: r.display(name), Err: underlying(err)}
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: r.display(name), Err: ErrNotRegular}
	}
	return f, nil
}

func (r *rootFS) Stat(name string) (FileInfo, error) {
	resolved, err := r.resolve("stat", name, true)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := r.root.Lstat(rel(resolved))
	if err != nil {
		return FileInfo{}, &fs.PathError{Op: "stat", Path: r.display(name), Err: underlying(err)}
	}
	return fileInfo(path.Base(name), fi), nil
}

func (r *rootFS) Lstat(name string) (FileInfo, error) {
	resolved, err := r.resolve("lstat", name, false)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := r.root.Lstat(rel(resolved))
	if err != nil {
		return FileInfo{}, &fs.PathError{Op: "lstat", Path: r.display(name), Err: underlying(err)}
	}
	return fileInfo(path.Base(name), fi), nil
}

func (r *rootFS) ReadDir(name string) ([]string, error) {
	resolved, err := r.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	// O_DIRECTORY makes a FIFO or device fail with ENOTDIR instead of being opened: a FIFO
	// without a writer would block the open forever.
	f, err := r.root.OpenFile(rel(resolved), os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: r.display(name), Err: underlying(err)}
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: r.display(name), Err: underlying(err)}
	}
	slices.Sort(names)
	return names, nil
}

func (r *rootFS) Readlink(name string) (string, error) {
	resolved, err := r.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	target, err := r.root.Readlink(rel(resolved))
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: r.display(name), Err: underlying(err)}
	}
	return target, nil
}

func fileInfo(name string, fi fs.FileInfo) FileInfo {
	info := FileInfo{Name: name, Size: fi.Size(), Mode: fi.Mode(), ModTime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		info.UID, info.GID = st.Uid, st.Gid
	}
	return info
}
