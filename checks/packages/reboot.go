package packages

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/packages/pkgdb"
	"github.com/securecodehq/server-audit/checks/packages/vulndata"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// rebootFlags are the files Debian and Ubuntu packages create when an upgrade needs a
// reboot (/var/run is a symbolic link to /run on current systems).
func rebootFlags() []string { return []string{"/run/reboot-required", "/var/run/reboot-required"} }

// debianKernelVersion finds the package version in /proc/sys/kernel/version of a Debian
// kernel ("#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)").
var debianKernelVersion = regexp.MustCompile(`Debian (\S+) \(`)

// rebootRequired: an upgraded library or kernel protects nothing until the processes using
// it restart; for the kernel and libc that means a reboot.
func rebootRequired(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	inv, _ := f.inv.Get(ctx, h)
	fsys := h.FS()
	flag, flagFile := false, ""
	for _, p := range rebootFlags() {
		if _, err := fsys.Stat(p); err == nil {
			flag, flagFile = true, p
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return checks.FromError("stat "+p, err), nil
		}
	}
	var pkgs []string
	if flag {
		if data, err := host.ReadFileLimit(fsys, flagFile+".pkgs", 1<<20); err == nil {
			for _, l := range strings.Split(string(data), "\n") {
				if l = strings.TrimSpace(l); l != "" && !containsString(pkgs, l) {
					pkgs = append(pkgs, l)
				}
			}
		}
	}
	running, err := host.ReadFileLimit(proc, "/sys/kernel/osrelease", 4096)
	if err != nil {
		return checks.FromError("read the running kernel release", err), nil
	}
	release := strings.TrimSpace(string(running))
	kversion, _ := host.ReadFileLimit(proc, "/sys/kernel/version", 4096)
	var outdated bool
	var why string
	if inv.dbErr == nil && inv.db != nil {
		outdated, why = kernelOutdated(inv.db, release, string(kversion))
	} else if inv.dbErr != nil {
		why = "installed kernels not compared: " + inv.dbErr.Error()
	}
	// Packages in the curated vulnerability data (or the kernel) make a pending restart
	// matter more: the fix is installed but not running.
	important := outdated
	var curated []string
	if data, err := vulndata.Load(); err == nil {
		curated = data.Packages()
	}
	for _, p := range pkgs {
		if containsString(curated, p) || strings.HasPrefix(p, "linux-image") || p == "libc6" {
			important = true
		}
	}
	var res checks.Result
	switch {
	case flag && outdated:
		res = checks.Fail("a reboot is required: the package manager asked for one and %s", why)
	case outdated:
		res = checks.Fail("a reboot is required: %s", why)
	case flag:
		res = checks.Fail("a reboot is required (%s exists; %d package(s) asked for it)", flagFile, len(pkgs))
	case why != "":
		res = checks.Pass("no reboot is pending (no reboot-required flag; the running kernel %s has no package to compare with)", release)
	default:
		res = checks.Pass("no reboot is pending: the running kernel %s is the newest installed", release)
	}
	if res.Status == "fail" && !important {
		res = res.WithSeverity(catalog.SeverityMedium)
	}
	for _, p := range pkgs {
		res = res.Detail("needs a reboot: %s", p)
	}
	if why != "" && !outdated {
		res = res.Detail("%s", why)
	}
	return res.Bool("flag", flag).Int("flag_packages", int64(len(pkgs))).Bool("kernel_outdated", outdated).
		Version("running_kernel", factVersionOf(release)), nil
}

// factVersionOf makes a kernel release fit the version fact grammar.
func factVersionOf(v string) string {
	v = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || strings.ContainsRune(".+~:_-", r) {
			return r
		}
		return '_'
	}, v)
	if len(v) > 64 {
		v = v[:64]
	}
	if v == "" {
		return "unknown"
	}
	return v
}

// kernelOutdated compares the running kernel with the installed kernel packages: Debian and
// Ubuntu's linux-image-<release> packages, the Red Hat family's kernel and kernel-core
// packages (version-release.arch is the running release). It reports whether a newer
// kernel is installed, or the running one's package is gone or was upgraded in place.
func kernelOutdated(db *pkgdb.DB, running, kversion string) (bool, string) {
	type kernel struct{ release, version string }
	var kernels []kernel
	for _, p := range db.Packages {
		switch {
		case db.Manager == pkgdb.Dpkg && strings.HasPrefix(p.Name, "linux-image-"):
			rel := strings.TrimPrefix(p.Name, "linux-image-")
			if rel == "" || rel[0] < '0' || rel[0] > '9' || strings.HasPrefix(rel, "unsigned-") {
				continue // meta packages (linux-image-amd64) name no release
			}
			kernels = append(kernels, kernel{rel, p.Version})
		case db.Manager == pkgdb.RPM && (p.Name == "kernel-core" || p.Name == "kernel"):
			v := p.Version
			if i := strings.IndexByte(v, ':'); i >= 0 {
				v = v[i+1:]
			}
			rel := v
			if p.Arch != "" {
				rel += "." + p.Arch
			}
			kernels = append(kernels, kernel{rel, p.Version})
		}
	}
	if len(kernels) == 0 {
		return false, "no kernel package is installed (a kernel the distribution does not package, or a container)"
	}
	newest := kernels[0]
	for _, k := range kernels[1:] {
		if db.Compare(k.version, newest.version) > 0 {
			newest = k
		}
	}
	var runningPkg *kernel
	for i := range kernels {
		if kernels[i].release == running {
			runningPkg = &kernels[i]
		}
	}
	switch {
	case runningPkg == nil:
		return true, "the running kernel " + running + " is no longer installed (newest installed: " + newest.release + ")"
	case newest.release != running && db.Compare(newest.version, runningPkg.version) > 0:
		return true, "kernel " + newest.release + " is installed but " + running + " is running"
	}
	if m := debianKernelVersion.FindStringSubmatch(kversion); m != nil && db.Manager == pkgdb.Dpkg && m[1] != runningPkg.version {
		return true, "the running kernel's package was upgraded in place (running " + m[1] + ", installed " + runningPkg.version + ")"
	}
	return false, ""
}
