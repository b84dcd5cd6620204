// Package host is the only door from a check to the machine it audits: a filesystem view
// rooted at "/" or at an offline root, procfs and sysfs when the system is live, and a
// command runner that never uses a shell.
package host

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Host is what a check sees of the audited machine.
type Host interface {
	// FS is the file tree, rooted at "/" or at the offline root.
	FS() FS
	// Proc is procfs. Offline roots have none unless a real procfs is mounted at
	// <root>/proc (a container auditing --root /host); otherwise ErrNotLive.
	Proc() (FS, error)
	// Sys is sysfs, with the same rules as Proc.
	Sys() (FS, error)
	// Run runs a command (argv, no shell) with a timeout, LC_ALL=C and capped output. A
	// non-zero exit is reported in Output, not as an error. Offline roots return ErrNotLive.
	Run(ctx context.Context, argv ...string) (Output, error)
	// DialUnix connects to a Unix socket of the running system (the Docker Engine API),
	// bounded by ctx. Offline roots return ErrNotLive. The caller only reads state through
	// it; checks never change anything.
	DialUnix(ctx context.Context, path string) (net.Conn, error)
	// Live is true when the running system is audited.
	Live() bool
}

// Options configures New.
type Options struct {
	// Root is the directory to audit; "" or "/" audits the running system.
	Root string
	// CommandTimeout bounds each command (default DefaultCommandTimeout).
	CommandTimeout time.Duration
	// MaxOutput caps each of stdout and stderr (default DefaultMaxOutput).
	MaxOutput int
}

// Magic numbers of statfs(2) f_type.
const (
	procSuperMagic = 0x9fa0
	sysfsMagic     = 0x62656572
)

type system struct {
	live   bool
	fsys   FS
	proc   FS
	sys    FS
	runner *Runner
}

// New returns the Host for opts.
func New(opts Options) (Host, error) {
	root := opts.Root
	if root == "" {
		root = "/"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolve root %s: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open root %s: not a directory", abs)
	}
	h := &system{live: abs == "/"}
	if h.live {
		// Nothing lies above "/": the kernel's own symlink resolution is the right one.
		h.fsys = newKernelFS("/", "")
	} else if h.fsys, err = NewFS(abs); err != nil {
		return nil, err
	}
	// procfs and sysfs count only when they are the real thing: an offline image's empty
	// /proc directory must not be mistaken for the running system's. Their links are made
	// by the kernel, so the kernel resolves them.
	if isMount(filepath.Join(abs, "proc"), procSuperMagic) {
		h.proc = newKernelFS(filepath.Join(abs, "proc"), "/proc")
	}
	if isMount(filepath.Join(abs, "sys"), sysfsMagic) {
		h.sys = newKernelFS(filepath.Join(abs, "sys"), "/sys")
	}
	if h.live {
		h.runner = NewRunner(opts.CommandTimeout, opts.MaxOutput)
	}
	return h, nil
}

// isMount reports whether dir is a directory (not a symbolic link to one) on a filesystem
// of type magic. An offline image whose proc is a symbolic link to /proc must not be given
// the auditing machine's procfs.
func isMount(dir string, magic int64) bool {
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return false
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return int64(st.Type) == magic
}

func (h *system) FS() FS     { return h.fsys }
func (h *system) Live() bool { return h.live }

func (h *system) Proc() (FS, error) {
	if h.proc == nil {
		return nil, fmt.Errorf("procfs: %w", ErrNotLive)
	}
	return h.proc, nil
}

func (h *system) Sys() (FS, error) {
	if h.sys == nil {
		return nil, fmt.Errorf("sysfs: %w", ErrNotLive)
	}
	return h.sys, nil
}

func (h *system) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	if !h.live {
		return nil, fmt.Errorf("connect %s: %w", path, ErrNotLive)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", path, underlying(err))
	}
	return conn, nil
}

func (h *system) Run(ctx context.Context, argv ...string) (Output, error) {
	if h.runner == nil {
		return Output{}, fmt.Errorf("run %s: %w", commandName(argv), ErrNotLive)
	}
	return h.runner.Run(ctx, argv...)
}
