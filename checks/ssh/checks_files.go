package ssh

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// keyFamilies are the declared values of the host_key_types fact.
var keyFamilies = []string{"rsa", "dsa", "ecdsa", "ed25519", "sk-ecdsa", "sk-ed25519", "other"}

// hostKeys: DSA keys are limited to 1024 bits and SHA-1; RSA keys below 3072 bits fall
// short of current recommendations (below 2048 they are weak).
func hostKeys(_ host.Host, s *state) checks.Result {
	if len(s.keys) == 0 {
		return checks.Skip(report.ReasonNotFound, "no host public keys (/etc/ssh/ssh_host_*_key.pub)")
	}
	inUse := map[string]bool{}
	if s.cfg != nil {
		for _, p := range s.cfg.All("hostkey") {
			inUse[p] = true
		}
	}
	var types, broken, legacy, notes []string
	minRSA, parsed := int64(0), 0
	for _, k := range s.keys {
		if k.err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", k.pub, k.err))
			continue
		}
		parsed++
		if s.cfg != nil && !inUse[k.private] {
			notes = append(notes, fmt.Sprintf("%s (%s, %d bits) is not a configured HostKey", k.pub, k.key.Type, k.key.Bits))
			continue
		}
		fam := k.key.Family()
		if !slices.Contains(types, fam) {
			types = append(types, fam)
		}
		desc := fmt.Sprintf("%s (%s, %d bits)", k.pub, k.key.Type, k.key.Bits)
		switch {
		case fam == "dsa":
			broken = append(broken, desc)
		case fam == "rsa" && k.key.Bits < 2048:
			broken = append(broken, desc)
		case fam == "rsa" && k.key.Bits < 3072:
			legacy = append(legacy, desc)
		default:
			notes = append(notes, desc)
		}
		if fam == "rsa" && (minRSA == 0 || int64(k.key.Bits) < minRSA) {
			minRSA = int64(k.key.Bits)
		}
	}
	if parsed == 0 {
		res := checks.Error(report.ReasonParseError, "no host public key could be parsed")
		for _, n := range notes {
			res = res.Detail("%s", n)
		}
		return res
	}
	var res checks.Result
	switch {
	case len(broken) > 0:
		res = checks.Fail("weak host key in use: %s", strings.Join(broken, "; "))
	case len(legacy) > 0:
		res = checks.Fail("RSA host key shorter than 3072 bits: %s", strings.Join(legacy, "; ")).WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Pass("host keys in use: %s", strings.Join(types, ", "))
	}
	if s.cfg == nil {
		res = res.Detail("the configuration could not be read; every key found is assumed to be in use")
	}
	for _, n := range notes {
		res = res.Detail("%s", n)
	}
	slices.Sort(types)
	res = res.Enums("host_key_types", types).Int("weak_host_keys", int64(len(broken)+len(legacy)))
	if minRSA > 0 {
		res = res.Int("rsa_bits", minRSA)
	}
	return res
}

// configPaths are the configuration files and the directories holding them (and, for a
// file reached through a symbolic link, the directory of its target).
func configPaths(fsys host.FS, s *state) (files, dirs []string) {
	files = []string{mainConfig}
	for _, f := range s.files {
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	addDir := func(d string) {
		if d = path.Clean(d); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, f := range files {
		addDir(path.Dir(path.Clean(f)))
		if fi, err := fsys.Lstat(f); err == nil && fi.Mode&fs.ModeSymlink != 0 {
			if target, err := fsys.Readlink(f); err == nil {
				if !path.IsAbs(target) {
					target = path.Join(path.Dir(f), target)
				}
				addDir(path.Dir(target))
			}
		}
	}
	for _, d := range s.dirs {
		addDir(d)
	}
	return files, dirs
}

// configPermissions: whoever can write sshd's configuration (or a directory it includes
// from) controls who logs in. Reading it is not a finding: it holds no secrets.
func configPermissions(h host.Host, s *state) checks.Result {
	fsys := h.FS()
	files, dirs := configPaths(fsys, s)
	main, err := fsys.Stat(mainConfig)
	if err != nil {
		return checks.FromError("stat "+mainConfig, err)
	}
	var problems, notes []string
	notRoot, writable := 0, 0
	otherReadable := false
	for _, name := range append(slices.Clone(files), dirs...) {
		fi, err := fsys.Stat(name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				notes = append(notes, fmt.Sprintf("stat %s: %v", name, err))
			}
			continue
		}
		perm := fi.Perm()
		shown := name
		if li, err := fsys.Lstat(name); err == nil && li.Mode&fs.ModeSymlink != 0 {
			if target, err := fsys.Readlink(name); err == nil {
				shown = fmt.Sprintf("%s (a symbolic link to %s)", name, target)
			}
		}
		if fi.UID != 0 {
			notRoot++
			problems = append(problems, fmt.Sprintf("%s is owned by UID %d, not root", shown, fi.UID))
		}
		if perm&0o022 != 0 && !(fi.IsDir() && perm&0o1000 != 0 && fi.UID == 0) {
			writable++
			problems = append(problems, fmt.Sprintf("%s is writable by its group or by everyone (mode %04o)", shown, perm))
		}
		if !fi.IsDir() && perm&0o004 != 0 {
			otherReadable = true
		}
	}
	var res checks.Result
	if len(problems) == 0 {
		res = checks.Pass("%d sshd configuration file(s) and their directories are owned by root and writable only by root", len(files))
		if otherReadable {
			res = res.Detail("some files are readable by everyone; CIS asks for mode 0600, which we do not require since sshd_config holds no secrets")
		}
	} else {
		res = checks.Fail("%s", problems[0])
		for _, p := range problems[1:] {
			res = res.Detail("%s", p)
		}
	}
	for _, n := range notes {
		res = res.Detail("%s", n)
	}
	return res.Int("config_files", int64(len(files))).Int("not_root_owned", int64(notRoot)).
		Int("writable_by_others", int64(writable)).Int("main_config_mode", int64(main.Perm())).
		Bool("other_readable", otherReadable)
}

// groupGID returns the GID of a group from /etc/group, -1 when absent.
func groupGID(fsys host.FS, name string) int64 {
	data, err := host.ReadFileLimit(fsys, "/etc/group", 4<<20)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			if gid, err := strconv.ParseInt(f[2], 10, 64); err == nil {
				return gid
			}
		}
	}
	return -1
}

// hostKeyPermissions: a readable private host key lets its reader impersonate the server.
// Keys are only stat'ed, never opened.
func hostKeyPermissions(h host.Host, s *state) checks.Result {
	fsys := h.FS()
	paths, _ := host.Glob(fsys, "/etc/ssh/ssh_host_*_key")
	if s.cfg != nil {
		for _, p := range s.cfg.All("hostkey") {
			if p != "none" && !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	sshKeys := groupGID(fsys, "ssh_keys")
	type problem struct {
		sev catalog.Severity
		msg string
	}
	var problems []problem
	var notes []string
	worst := catalog.SeverityInfo
	found := 0
	otherAccess, groupReadable, notRoot := false, false, false
	for _, p := range paths {
		fi, err := fsys.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				notes = append(notes, fmt.Sprintf("%s does not exist", p))
			} else {
				notes = append(notes, fmt.Sprintf("stat %s: %v", p, err))
			}
			continue
		}
		found++
		perm := fi.Perm()
		add := func(sev catalog.Severity, format string, args ...any) {
			problems = append(problems, problem{sev, fmt.Sprintf(format, args...)})
			if sev.Rank() > worst.Rank() {
				worst = sev
			}
		}
		if fi.UID != 0 {
			notRoot = true
			add(catalog.SeverityHigh, "%s is owned by UID %d, not root", p, fi.UID)
		}
		if perm&0o007 != 0 {
			otherAccess = true
			add(catalog.SeverityHigh, "%s is accessible to every user (mode %04o)", p, perm)
		}
		if perm&0o020 != 0 {
			add(catalog.SeverityHigh, "%s is writable by its group (mode %04o)", p, perm)
		}
		if perm&0o040 != 0 && !(sshKeys >= 0 && int64(fi.GID) == sshKeys) {
			groupReadable = true
			add(catalog.SeverityMedium, "%s is readable by group %d (only 0600, or 0640 with group ssh_keys, is expected)", p, fi.GID)
		}
		if perm&0o100 != 0 || !fi.IsRegular() {
			add(catalog.SeverityLow, "%s is not a plain non-executable file (mode %04o)", p, perm)
		}
	}
	if found == 0 {
		res := checks.Skip(report.ReasonNotFound, "no private host key found (/etc/ssh/ssh_host_*_key or HostKey)")
		for _, n := range notes {
			res = res.Detail("%s", n)
		}
		return res
	}
	var res checks.Result
	// The worst problem leads.
	slices.SortStableFunc(problems, func(a, b problem) int { return b.sev.Rank() - a.sev.Rank() })
	if len(problems) == 0 {
		res = checks.Pass("%d private host key(s) are owned by root and readable only by root (or the ssh_keys group)", found)
	} else {
		res = checks.Fail("%s", problems[0].msg).WithSeverity(worst)
		for _, p := range problems[1:] {
			res = res.Detail("%s", p.msg)
		}
	}
	for _, n := range notes {
		res = res.Detail("%s", n)
	}
	return res.Int("host_keys", int64(found)).Bool("other_access", otherAccess).
		Bool("group_readable", groupReadable).Bool("not_root_owned", notRoot)
}
