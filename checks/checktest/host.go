package checktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/securecodehq/server-audit/checks/host"
)

// Host is a host.Host built from a directory tree. Files report deterministic modes and
// owners (0644 files, 0755 directories and executables, root:root) unless the spec
// overrides them, so results do not depend on the umask of the checkout.
type Host struct {
	live     bool
	fsys     host.FS
	proc     host.FS
	sys      host.FS
	commands []Command
	sockets  map[string]*socketServer
}

// NewHost builds a host from the tree at root and a spec (its Files, Live, Commands and
// Sockets; Commands must carry their output inline). On a live host root/proc and root/sys
// serve as procfs and sysfs, and fixture paths for them are written "/proc/..." and
// "/sys/...".
func NewHost(root string, spec Spec) (*Host, error) {
	meta := map[string]fileMeta{}
	for name, m := range spec.Files {
		fm, err := m.parse()
		if err != nil {
			return nil, fmt.Errorf("files %s: %w", name, err)
		}
		meta[name] = fm
	}
	base, err := host.NewFS(root)
	if err != nil {
		return nil, err
	}
	sockets, err := newSockets(spec.Sockets)
	if err != nil {
		return nil, err
	}
	h := &Host{live: spec.Live, fsys: &overlay{base: base, meta: meta, sockets: sockets}, commands: spec.Commands, sockets: sockets}
	if spec.Live {
		for _, sub := range []struct {
			name string
			dst  *host.FS
		}{{"proc", &h.proc}, {"sys", &h.sys}} {
			dir := filepath.Join(root, sub.name)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				continue
			}
			fsys, err := host.NewFSAt(dir, "/"+sub.name)
			if err != nil {
				return nil, err
			}
			*sub.dst = &overlay{base: fsys, prefix: "/" + sub.name, meta: meta}
		}
	}
	return h, nil
}

// FS implements host.Host.
func (h *Host) FS() host.FS { return h.fsys }

// Live implements host.Host.
func (h *Host) Live() bool { return h.live }

// Proc implements host.Host.
func (h *Host) Proc() (host.FS, error) {
	if h.proc == nil {
		return nil, fmt.Errorf("procfs: %w", host.ErrNotLive)
	}
	return h.proc, nil
}

// Sys implements host.Host.
func (h *Host) Sys() (host.FS, error) {
	if h.sys == nil {
		return nil, fmt.Errorf("sysfs: %w", host.ErrNotLive)
	}
	return h.sys, nil
}

// Run answers from the canned commands. A command not listed is not installed.
func (h *Host) Run(ctx context.Context, argv ...string) (host.Output, error) {
	name := ""
	if len(argv) > 0 {
		name = filepath.Base(argv[0])
	}
	if !h.live {
		return host.Output{}, fmt.Errorf("run %s: %w", name, host.ErrNotLive)
	}
	for _, c := range h.commands {
		if !slices.Equal(c.Argv, argv) {
			continue
		}
		if c.Hang {
			<-ctx.Done()
			return host.Output{}, fmt.Errorf("run %s: %w", name, host.ErrTimeout)
		}
		return host.Output{Stdout: []byte(c.Stdout), Stderr: []byte(c.Stderr), ExitCode: c.Exit}, nil
	}
	return host.Output{}, fmt.Errorf("run %s: %w", name, host.ErrCommandNotFound)
}

// DialUnix implements host.Host: it connects to the fixture's sockets; any other path is
// refused as on a machine where the daemon does not run.
func (h *Host) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	if !h.live {
		return nil, fmt.Errorf("connect %s: %w", path, host.ErrNotLive)
	}
	if s := h.sockets[path]; s != nil {
		return s.dial(ctx, path)
	}
	return nil, &net.OpError{Op: "dial", Net: "unix", Err: syscall.ECONNREFUSED}
}

// overlay adds fixture metadata and injected errors to a real tree.
type overlay struct {
	base   host.FS
	prefix string
	meta   map[string]fileMeta
	// sockets stat as sockets and are listed in their directories.
	sockets map[string]*socketServer
}

// lookup returns the metadata of name and the error injected for op. A permission error
// applies to reading (open, readdir) only, as on a real system where stat needs no read
// permission; other injected errors apply to every operation.
func (o *overlay) lookup(op, name string) (fileMeta, error) {
	m, ok := o.meta[o.prefix+name]
	if !ok || m.err == nil {
		return m, nil
	}
	if errors.Is(m.err, fs.ErrPermission) && op != "open" && op != "readdir" {
		return m, nil
	}
	return m, &fs.PathError{Op: op, Path: o.prefix + name, Err: m.err}
}

func (o *overlay) Open(name string) (io.ReadCloser, error) {
	if _, err := o.lookup("open", name); err != nil {
		return nil, err
	}
	return o.base.Open(name)
}

func (o *overlay) Stat(name string) (host.FileInfo, error) {
	m, err := o.lookup("stat", name)
	if err != nil {
		return host.FileInfo{}, err
	}
	if o.sockets[name] != nil {
		return socketInfo(name, m), nil
	}
	fi, err := o.base.Stat(name)
	return normalize(fi, m), err
}

func (o *overlay) Lstat(name string) (host.FileInfo, error) {
	m, err := o.lookup("lstat", name)
	if err != nil {
		return host.FileInfo{}, err
	}
	if o.sockets[name] != nil {
		return socketInfo(name, m), nil
	}
	fi, err := o.base.Lstat(name)
	return normalize(fi, m), err
}

func (o *overlay) ReadDir(name string) ([]string, error) {
	if _, err := o.lookup("readdir", name); err != nil {
		return nil, err
	}
	names, err := o.base.ReadDir(name)
	if err != nil {
		return nil, err
	}
	// Git cannot store empty directories; fixtures keep them with a .keep file.
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, ".keep") })
	if len(o.sockets) > 0 {
		names = socketNames(o.sockets, name, names)
	}
	return names, nil
}

func (o *overlay) Readlink(name string) (string, error) {
	if _, err := o.lookup("readlink", name); err != nil {
		return "", err
	}
	return o.base.Readlink(name)
}

func normalize(fi host.FileInfo, m fileMeta) host.FileInfo {
	perm := fs.FileMode(0o644)
	switch {
	case fi.Mode&fs.ModeSymlink != 0:
		perm = 0o777
	case fi.Mode.IsDir() || fi.Mode&0o100 != 0:
		perm = 0o755
	}
	if m.mode != nil {
		perm = *m.mode
	}
	fi.Mode = fi.Mode.Type() | perm
	fi.UID, fi.GID = 0, 0
	if m.uid != nil {
		fi.UID = *m.uid
	}
	if m.gid != nil {
		fi.GID = *m.gid
	}
	return fi
}
