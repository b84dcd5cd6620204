package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// cronPaths are the system cron locations run as root: the crontab, the drop-in directory
// and the run-parts directories.
var cronPaths = []string{
	"/etc/crontab",
	"/etc/cron.d",
	"/etc/cron.hourly",
	"/etc/cron.daily",
	"/etc/cron.weekly",
	"/etc/cron.monthly",
}

// maxCronEntries bounds how many entries of one cron directory are inspected.
const maxCronEntries = 1000

// cronPermissions: cron runs these files as root, so anyone who can write one of them (or
// the directory holding it) runs code as root.
type cronPermissions struct{}

func (cronPermissions) ID() string { return "system.cron-permissions" }

func (cronPermissions) Run(_ context.Context, h host.Host) (checks.Result, error) {
	fsys := h.FS()
	var problems []string
	checked, writable, notRoot := 0, 0, 0
	bad := map[string]bool{}
	inspect := func(name string, fi host.FileInfo) {
		checked++
		perm := fi.Perm()
		// A sticky directory still lets everyone add files, so any group/other write
		// permission counts.
		if perm&0o022 != 0 {
			writable++
			bad[name] = true
			problems = append(problems, fmt.Sprintf("%s is writable by group or others (mode %04o)", name, perm))
		}
		if fi.UID != 0 {
			notRoot++
			bad[name] = true
			problems = append(problems, fmt.Sprintf("%s is owned by UID %d, not root", name, fi.UID))
		}
	}
	found := false
	for _, p := range cronPaths {
		fi, err := fsys.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return checks.FromError("stat "+p, err), nil
		}
		found = true
		inspect(p, fi)
		if !fi.IsDir() {
			continue
		}
		names, err := fsys.ReadDir(p)
		if err != nil {
			return checks.FromError("read "+p, err), nil
		}
		if len(names) > maxCronEntries {
			problems = append(problems, fmt.Sprintf("%s has %d entries; only the first %d were inspected", p, len(names), maxCronEntries))
			names = names[:maxCronEntries]
		}
		for _, n := range names {
			full := path.Join(p, n)
			sub, err := fsys.Lstat(full)
			if err != nil || sub.Mode&fs.ModeSymlink != 0 {
				// Symlinks are judged by their target.
				if sub, err = fsys.Stat(full); err != nil {
					continue
				}
			}
			if sub.IsRegular() {
				inspect(full, sub)
			}
		}
	}
	if !found {
		return checks.Skip(report.ReasonNotInstalled, "no system crontab or cron directories (cron is not installed)"), nil
	}
	res := checks.Pass("%d cron file(s) and directories are owned by root and writable only by root", checked)
	if len(bad) > 0 {
		res = checks.Fail("%d cron path(s) can be changed by users other than root", len(bad))
	}
	for _, p := range problems {
		res = res.Detail("%s", p)
	}
	return res.Int("checked_paths", int64(checked)).Int("writable_by_others", int64(writable)).Int("not_root_owned", int64(notRoot)), nil
}
