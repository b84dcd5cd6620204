// Package schedule installs, removes and reports the periodic run of server-audit: a
// hardened systemd service and timer in /etc/systemd/system, or an /etc/cron.d entry.
//
// Every operation takes a root directory ("/" on a live host, a temporary tree in tests and
// for image builds). Install is idempotent: a file whose content and mode are already right
// is not rewritten, and systemctl is only called when something changed. Remove deletes
// only files that carry this package's marker line. The scheduled command never carries the
// upload token: the run reads /etc/server-audit/token.
package schedule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/securecodehq/server-audit/agent/internal/atomicfile"
)

// Method is how the run is scheduled.
type Method string

// Methods.
const (
	// Auto picks systemd when it is the running init system (or, under another root, when
	// <root>/etc/systemd/system exists), else cron.
	Auto Method = "auto"
	// Systemd writes a service and timer unit.
	Systemd Method = "systemd"
	// Cron writes /etc/cron.d/server-audit.
	Cron Method = "cron"
)

// Interval is how often the run happens; the values are systemd calendar shorthands.
type Interval string

// Intervals.
const (
	// Hourly runs at the start of every hour (plus the randomized delay).
	Hourly Interval = "hourly"
	// Daily runs at midnight.
	Daily Interval = "daily"
	// Weekly runs on Monday at midnight.
	Weekly Interval = "weekly"
)

// Duration is the length of one interval.
func (i Interval) Duration() time.Duration {
	switch i {
	case Hourly:
		return time.Hour
	case Daily:
		return 24 * time.Hour
	case Weekly:
		return 7 * 24 * time.Hour
	}
	return 0
}

// DefaultDelay is the randomized delay when none is given: a quarter of an hourly interval,
// an hour for the others.
func (i Interval) DefaultDelay() time.Duration {
	if i == Hourly {
		return 15 * time.Minute
	}
	return time.Hour
}

// ParseInterval validates an interval name.
func ParseInterval(s string) (Interval, error) {
	switch i := Interval(s); i {
	case Hourly, Daily, Weekly:
		return i, nil
	}
	return "", fmt.Errorf("interval %q: want hourly, daily or weekly", s)
}

// ParseMethod validates a method name.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case Auto, Systemd, Cron:
		return m, nil
	}
	return "", fmt.Errorf("method %q: want systemd, cron or auto", s)
}

// Systemctl runs systemctl; it is an interface so tests can record the calls.
type Systemctl interface {
	Run(ctx context.Context, args ...string) ([]byte, error)
}

// ExecSystemctl runs the systemctl on PATH.
type ExecSystemctl struct{}

// Run runs systemctl with args and returns its standard output.
func (ExecSystemctl) Run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "systemctl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Options configure Install, Remove and Status.
type Options struct {
	// Root is the filesystem root the files are written under; "" means "/".
	Root string
	// Method is systemd, cron or auto ("" means auto).
	Method Method
	// Interval is hourly, daily or weekly ("" means daily).
	Interval Interval
	// RandomizedDelay spreads runs across a fleet; negative means the interval's default.
	RandomizedDelay time.Duration
	// Binary is the absolute path of server-audit on the audited host.
	Binary string
	// Systemctl is used when Root is "/" and systemd is running; nil means ExecSystemctl.
	Systemctl Systemctl
}

// Change is one file operation.
type Change struct {
	// Path is the file's path on the audited host (without Root).
	Path string
	// Action is "created", "updated" or "removed".
	Action string
}

// Result lists what an operation changed; empty when nothing needed changing.
type Result struct {
	// Method is the method installed (or "" for Remove).
	Method Method
	// Changes are the files written or removed.
	Changes []Change
	// Notes are follow-up messages for the user (e.g. systemd is not running).
	Notes []string
}

// safeBinary matches a path that needs no quoting in a unit or a cron line.
var safeBinary = regexp.MustCompile(`^/[A-Za-z0-9._/+-]+$`)

func (o *Options) normalise() error {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Interval == "" {
		o.Interval = Daily
	}
	if _, err := ParseInterval(string(o.Interval)); err != nil {
		return err
	}
	if o.Method == "" {
		o.Method = Auto
	}
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return err
	}
	if o.RandomizedDelay < 0 {
		o.RandomizedDelay = o.Interval.DefaultDelay()
	}
	if o.RandomizedDelay >= o.Interval.Duration() {
		return fmt.Errorf("randomized delay %s: must be shorter than the interval (%s)", o.RandomizedDelay, o.Interval)
	}
	if o.Systemctl == nil {
		o.Systemctl = ExecSystemctl{}
	}
	return nil
}

// path maps a host path under the root.
func (o *Options) path(p string) string { return filepath.Join(o.Root, p) }

// liveSystemd reports whether systemctl should be called: the root is the running system and
// systemd is its init.
func (o *Options) liveSystemd() bool {
	if o.Root != "/" {
		return false
	}
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

// resolveMethod turns Auto into systemd or cron.
func (o *Options) resolveMethod() (Method, error) {
	if o.Method != Auto {
		return o.Method, nil
	}
	if o.liveSystemd() {
		return Systemd, nil
	}
	if o.Root != "/" && isDir(o.path(SystemdDir)) {
		return Systemd, nil
	}
	if isDir(o.path("/etc/cron.d")) {
		return Cron, nil
	}
	return "", errors.New("neither systemd (not running) nor cron (/etc/cron.d missing) is available; pass --method")
}

// Install writes the schedule for opts.Method, removes the other method's files, and (on a
// live systemd host, when something changed) reloads systemd and starts the timer.
func Install(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.normalise(); err != nil {
		return nil, err
	}
	if !safeBinary.MatchString(opts.Binary) {
		return nil, fmt.Errorf("binary path %q: must be absolute and contain only letters, digits and ._/+-", opts.Binary)
	}
	method, err := opts.resolveMethod()
	if err != nil {
		return nil, err
	}
	res := &Result{Method: method}
	switch method {
	case Systemd:
		err = installSystemd(ctx, &opts, res)
	case Cron:
		err = installCron(&opts, res)
	}
	if err != nil {
		return res, err
	}
	return res, nil
}

func installSystemd(ctx context.Context, o *Options, res *Result) error {
	if !isDir(o.path(SystemdDir)) {
		return fmt.Errorf("install systemd units: %s does not exist (is systemd installed?)", SystemdDir)
	}
	files := []struct {
		path, content string
	}{
		{SystemdDir + "/" + ServiceName, ServiceUnit(o.Binary)},
		{SystemdDir + "/" + TimerName, TimerUnit(o.Interval, o.RandomizedDelay)},
	}
	for _, f := range files {
		if err := writeIfChanged(o, f.path, []byte(f.content), 0o644, res); err != nil {
			return err
		}
	}
	// Enable: the symlink `systemctl enable` would create, made directly so an offline root
	// gets the same tree.
	if err := linkIfChanged(o, WantsDir+"/"+TimerName, SystemdDir+"/"+TimerName, res); err != nil {
		return err
	}
	if err := removeOurs(o, CronPath, res); err != nil {
		return err
	}
	if len(res.Changes) == 0 {
		return nil
	}
	if !o.liveSystemd() {
		res.Notes = append(res.Notes, "systemd is not running here: the timer starts at the next boot")
		return nil
	}
	if _, err := o.Systemctl.Run(ctx, "daemon-reload"); err != nil {
		return err
	}
	if _, err := o.Systemctl.Run(ctx, "restart", TimerName); err != nil {
		return err
	}
	return nil
}

func installCron(o *Options, res *Result) error {
	if !isDir(o.path("/etc/cron.d")) {
		return errors.New("install cron entry: /etc/cron.d does not exist (is cron installed?)")
	}
	offset := cronOffset(o, machineID(o))
	if err := writeIfChanged(o, CronPath, []byte(CronEntry(o.Binary, o.Interval, offset)), 0o644, res); err != nil {
		return err
	}
	return removeSystemd(context.Background(), o, res, false)
}

// cronOffset is a stable per-host offset below the randomized delay: cron cannot randomize,
// and a fleet should not upload all at the same minute.
func cronOffset(o *Options, id []byte) time.Duration {
	if o.RandomizedDelay < time.Minute {
		return 0
	}
	sum := sha256.Sum256(append([]byte("server-audit schedule\x00"), id...))
	minutes := binary.BigEndian.Uint64(sum[:8]) % uint64(o.RandomizedDelay/time.Minute)
	return time.Duration(minutes) * time.Minute
}

// machineID reads /etc/machine-id under the root; empty when absent.
func machineID(o *Options) []byte {
	data, err := os.ReadFile(o.path("/etc/machine-id"))
	if err != nil {
		return nil
	}
	return bytes.TrimSpace(data)
}

// Remove deletes the schedule of either method (only files this package wrote) and, on a
// live systemd host, stops the timer first.
func Remove(ctx context.Context, opts Options) (*Result, error) {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.Systemctl == nil {
		opts.Systemctl = ExecSystemctl{}
	}
	res := &Result{}
	if err := removeSystemd(ctx, &opts, res, true); err != nil {
		return res, err
	}
	if err := removeOurs(&opts, CronPath, res); err != nil {
		return res, err
	}
	return res, nil
}

// removeSystemd removes the units and the enable link. stop asks systemd to stop the timer
// first when it is running.
func removeSystemd(ctx context.Context, o *Options, res *Result, stop bool) error {
	before := len(res.Changes)
	owned, err := ours(o, SystemdDir+"/"+TimerName)
	if err != nil {
		return err
	}
	live := o.liveSystemd()
	if owned && stop && live {
		if _, err := o.Systemctl.Run(ctx, "disable", "--now", TimerName); err != nil {
			return err
		}
	}
	if owned {
		if err := removeLink(o, WantsDir+"/"+TimerName, res); err != nil {
			return err
		}
		// timers.target.wants is created by install when missing; an empty one means nothing.
		_ = os.Remove(o.path(WantsDir))
	}
	for _, p := range []string{SystemdDir + "/" + TimerName, SystemdDir + "/" + ServiceName} {
		if err := removeOurs(o, p, res); err != nil {
			return err
		}
	}
	if len(res.Changes) > before && live {
		if _, err := o.Systemctl.Run(ctx, "daemon-reload"); err != nil {
			return err
		}
	}
	return nil
}

// writeIfChanged writes content to p (under the root) atomically unless it already has that
// content and mode.
func writeIfChanged(o *Options, p string, content []byte, mode fs.FileMode, res *Result) error {
	full := o.path(p)
	old, err := os.ReadFile(full)
	action := "updated"
	switch {
	case errors.Is(err, fs.ErrNotExist):
		action = "created"
	case err != nil:
		return fmt.Errorf("read %s: %w", p, err)
	default:
		if st, err := os.Lstat(full); err == nil && bytes.Equal(old, content) && st.Mode().Perm() == mode && st.Mode().IsRegular() {
			return nil
		}
		if ok, err := ours(o, p); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("write %s: the file exists and was not written by server-audit; remove it first", p)
		}
	}
	dir := filepath.Dir(full)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := atomicfile.Write(full, content, mode); err != nil {
		return err
	}
	res.Changes = append(res.Changes, Change{Path: p, Action: action})
	return nil
}

// linkIfChanged makes p a symlink to target unless it already is one.
func linkIfChanged(o *Options, p, target string, res *Result) error {
	full := o.path(p)
	cur, err := os.Readlink(full)
	if err == nil && cur == target {
		return nil
	}
	action := "created"
	if err == nil {
		action = "updated"
		if err := os.Remove(full); err != nil {
			return fmt.Errorf("replace link %s: %w", p, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("link %s: the path exists and is not a symbolic link: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("link %s: %w", p, err)
	}
	if err := os.Symlink(target, full); err != nil {
		return fmt.Errorf("link %s: %w", p, err)
	}
	res.Changes = append(res.Changes, Change{Path: p, Action: action})
	return nil
}

// removeLink removes the symlink p if it exists.
func removeLink(o *Options, p string, res *Result) error {
	full := o.path(p)
	st, err := os.Lstat(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	if st.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("remove %s: not a symbolic link; leaving it", p)
	}
	if err := os.Remove(full); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	res.Changes = append(res.Changes, Change{Path: p, Action: "removed"})
	return nil
}

// removeOurs removes p if it exists and carries the marker.
func removeOurs(o *Options, p string, res *Result) error {
	ok, err := ours(o, p)
	if err != nil || !ok {
		return err
	}
	if err := os.Remove(o.path(p)); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	res.Changes = append(res.Changes, Change{Path: p, Action: "removed"})
	return nil
}

// ours reports whether p exists and starts with the marker. A missing file is not ours.
func ours(o *Options, p string) (bool, error) {
	data, err := os.ReadFile(o.path(p))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	return bytes.HasPrefix(data, []byte(marker)), nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
