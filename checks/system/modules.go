package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// unusedFilesystemModules are filesystem drivers a server does not need and whose parsers
// have a history of memory-safety bugs reachable by mounting a crafted image (including
// automounted USB media). squashfs and udf-on-optical are used by snaps and installers and
// are left out on purpose; udf stays in, as CIS lists it.
var unusedFilesystemModules = []string{"cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf"}

// modprobeDirs are the configuration directories in kmod's priority order: a file name in
// an earlier directory hides the same name in later ones (modprobe.d(5)).
var modprobeDirs = []string{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d", "/usr/lib/modprobe.d"}

// modprobeConfig is the part of the modprobe configuration this check needs.
type modprobeConfig struct {
	files       int
	installOff  map[string]string // module -> "file:line" of an install /bin/false|true
	installSeen map[string]bool   // modules with an install line; kmod uses the first one
	blacklisted map[string]string // module -> "file:line" of a blacklist line
}

// normalizeModule applies kmod's rule that "-" and "_" are the same in module names.
func normalizeModule(name string) string { return strings.ReplaceAll(name, "-", "_") }

// readModprobeConfig reads every *.conf of the modprobe.d directories, honouring
// override-by-name, in the order kmod applies them (sorted by file name).
func readModprobeConfig(fsys host.FS) (*modprobeConfig, error) {
	chosen := map[string]string{} // base name -> full path
	for _, dir := range modprobeDirs {
		names, err := fsys.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		for _, n := range names {
			if !strings.HasSuffix(n, ".conf") {
				continue
			}
			if _, seen := chosen[n]; !seen {
				chosen[n] = path.Join(dir, n)
			}
		}
	}
	bases := make([]string, 0, len(chosen))
	for n := range chosen {
		bases = append(bases, n)
	}
	slices.Sort(bases)
	cfg := &modprobeConfig{installOff: map[string]string{}, installSeen: map[string]bool{}, blacklisted: map[string]string{}}
	for _, b := range bases {
		full := chosen[b]
		data, err := host.ReadFile(fsys, full)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // a dangling symlink (kmod masks files with /dev/null links)
			}
			return nil, fmt.Errorf("read %s: %w", full, err)
		}
		cfg.files++
		for _, line := range logicalLines(string(data)) {
			text := line.text
			if j := strings.IndexByte(text, '#'); j >= 0 {
				text = text[:j]
			}
			fields := strings.Fields(text)
			if len(fields) < 2 {
				continue
			}
			loc := fmt.Sprintf("%s:%d", full, line.number)
			mod := normalizeModule(fields[1])
			switch fields[0] {
			case "blacklist":
				cfg.blacklisted[mod] = loc
			case "install":
				if cfg.installSeen[mod] {
					continue
				}
				cfg.installSeen[mod] = true
				if len(fields) >= 3 && isNoopCommand(fields[2:]) {
					cfg.installOff[mod] = loc
				}
			}
		}
	}
	return cfg, nil
}

// isNoopCommand reports whether an install command loads nothing: /bin/false, /bin/true
// (any path), optionally with arguments.
func isNoopCommand(argv []string) bool {
	switch path.Base(argv[0]) {
	case "false", "true":
		return true
	}
	return false
}

// unusedFilesystems: rarely used filesystem drivers should not be loadable.
type unusedFilesystems struct{}

func (unusedFilesystems) ID() string { return "system.unused-filesystems" }

func (unusedFilesystems) Run(_ context.Context, h host.Host) (checks.Result, error) {
	cfg, err := readModprobeConfig(h.FS())
	if err != nil {
		return checks.FromError("read the modprobe configuration", err), nil
	}
	// On the running system, /proc/filesystems lists what is available now (built in or
	// loaded), and without /proc/modules the kernel cannot load modules at all.
	available := map[string]bool{}
	modular := true
	if proc, err := h.Proc(); err == nil {
		if data, err := host.ReadFile(proc, "/filesystems"); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				fields := strings.Fields(line)
				if len(fields) > 0 {
					available[normalizeModule(fields[len(fields)-1])] = true
				}
			}
		}
		if _, err := proc.Stat("/modules"); errors.Is(err, fs.ErrNotExist) {
			modular = false
		}
	}
	var loaded, loadable []string
	var details []string
	for _, m := range unusedFilesystemModules {
		key := normalizeModule(m)
		switch {
		case available[key]:
			loaded = append(loaded, m)
			details = append(details, fmt.Sprintf("%s is available in the running kernel (built in or loaded)", m))
		case !modular:
			// Not built in and the kernel cannot load modules.
		case cfg.installOff[key] != "":
			details = append(details, fmt.Sprintf("%s is disabled by an install line at %s", m, cfg.installOff[key]))
		case cfg.blacklisted[key] != "":
			details = append(details, fmt.Sprintf("%s is blacklisted at %s (blocks automatic loading by alias; an install /bin/false line also blocks explicit loading)", m, cfg.blacklisted[key]))
		default:
			loadable = append(loadable, m)
		}
	}
	bad := append(slices.Clone(loaded), loadable...)
	slices.Sort(bad)
	var res checks.Result
	if len(bad) == 0 {
		msg := "the unused filesystem drivers cannot be loaded"
		if !modular {
			msg += " (the kernel has no loadable module support)"
		}
		res = checks.Pass("%s", msg)
	} else {
		res = checks.Fail("%d unused filesystem driver(s) can be loaded: %s", len(bad), strings.Join(bad, ", "))
	}
	for _, d := range details {
		res = res.Detail("%s", d)
	}
	return res.Int("loadable_count", int64(len(bad))).Enums("loadable", bad).Int("loaded_count", int64(len(loaded))).
		Int("modprobe_files", int64(cfg.files)), nil
}
