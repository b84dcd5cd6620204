package system

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

func accountChecks() []checks.Check {
	return []checks.Check{
		shadowPermissions{},
		passwdPermissions{},
		uid0Accounts{},
		emptyPasswords{},
		sudoNopasswd{},
		cronPermissions{},
	}
}

// colonRecord is one line of /etc/passwd, /etc/group or /etc/shadow.
type colonRecord struct {
	line   int
	fields []string
}

// readColonFile reads a colon-separated account database. Comment and blank lines, and
// NIS compat lines ("+", "-"), are skipped; lines with fewer than minFields fields are
// returned in malformed (by line number) instead of failing the whole file.
func readColonFile(fsys host.FS, name string, minFields int) (records []colonRecord, malformed []int, err error) {
	data, err := host.ReadFile(fsys, name)
	if err != nil {
		return nil, nil, err
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimRight(string(line), "\r")
		if text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, "+") || strings.HasPrefix(text, "-") {
			continue
		}
		fields := strings.Split(text, ":")
		if len(fields) < minFields {
			malformed = append(malformed, i+1)
			continue
		}
		records = append(records, colonRecord{line: i + 1, fields: fields})
	}
	return records, malformed, nil
}

// groupID returns the GID of a group name from /etc/group, or -1.
func groupID(fsys host.FS, name string) int64 {
	records, _, err := readColonFile(fsys, "/etc/group", 3)
	if err != nil {
		return -1
	}
	for _, r := range records {
		if r.fields[0] == name {
			if gid, err := strconv.ParseInt(r.fields[2], 10, 64); err == nil {
				return gid
			}
		}
	}
	return -1
}

// shadowPermissions: /etc/shadow and /etc/gshadow hold password hashes; only root (and the
// shadow group, read-only) may read them.
type shadowPermissions struct{}

func (shadowPermissions) ID() string { return "system.shadow-permissions" }

func (shadowPermissions) Run(_ context.Context, h host.Host) (checks.Result, error) {
	fsys := h.FS()
	shadowGID := groupID(fsys, "shadow")
	shadow, err := fsys.Stat("/etc/shadow")
	if err != nil {
		return checks.FromError("stat /etc/shadow", err), nil
	}
	files := []struct {
		name string
		info host.FileInfo
	}{{"/etc/shadow", shadow}}
	gshadow, err := fsys.Stat("/etc/gshadow")
	switch {
	case err == nil:
		files = append(files, struct {
			name string
			info host.FileInfo
		}{"/etc/gshadow", gshadow})
	case !errors.Is(err, fs.ErrNotExist):
		return checks.FromError("stat /etc/gshadow", err), nil
	}
	var problems []string
	otherReadable, ownerRoot, worst := false, true, catalog.SeverityInfo
	for _, f := range files {
		perm := f.info.Perm()
		if perm&0o004 != 0 {
			otherReadable = true
			worst = catalog.SeverityCritical
			problems = append(problems, fmt.Sprintf("%s is readable by every user (mode %04o)", f.name, perm))
		}
		if perm&0o002 != 0 {
			worst = catalog.SeverityCritical
			problems = append(problems, fmt.Sprintf("%s is writable by every user (mode %04o)", f.name, perm))
		}
		if f.info.UID != 0 {
			ownerRoot = false
			worst = catalog.SeverityCritical
			problems = append(problems, fmt.Sprintf("%s is owned by UID %d, not root", f.name, f.info.UID))
		}
		if perm&0o020 != 0 {
			worst = maxSeverity(worst, catalog.SeverityHigh)
			problems = append(problems, fmt.Sprintf("%s is writable by its group (mode %04o)", f.name, perm))
		}
		if perm&0o040 != 0 && f.info.GID != 0 && int64(f.info.GID) != shadowGID {
			worst = maxSeverity(worst, catalog.SeverityHigh)
			problems = append(problems, fmt.Sprintf("%s is readable by group %d, which is neither root nor shadow", f.name, f.info.GID))
		}
		if perm&0o111 != 0 {
			worst = maxSeverity(worst, catalog.SeverityHigh)
			problems = append(problems, fmt.Sprintf("%s has execute bits set (mode %04o)", f.name, perm))
		}
	}
	var res checks.Result
	if len(problems) == 0 {
		res = checks.Pass("the password databases are readable only by root and the shadow group")
	} else {
		res = checks.Fail("%s", problems[0]).WithSeverity(worst)
		for _, p := range problems[1:] {
			res = res.Detail("%s", p)
		}
	}
	res = res.Int("shadow_mode", int64(shadow.Perm())).Bool("other_readable", otherReadable).Bool("owner_root", ownerRoot)
	if len(files) > 1 {
		res = res.Int("gshadow_mode", int64(gshadow.Perm()))
	}
	return res, nil
}

func maxSeverity(a, b catalog.Severity) catalog.Severity {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// passwdPermissions: /etc/passwd and /etc/group are world-readable by design but must be
// writable only by root; whoever can write them can create a UID-0 account.
type passwdPermissions struct{}

func (passwdPermissions) ID() string { return "system.passwd-permissions" }

func (passwdPermissions) Run(_ context.Context, h host.Host) (checks.Result, error) {
	fsys := h.FS()
	var problems []string
	modes := map[string]int64{}
	writable := false
	for _, name := range []string{"/etc/passwd", "/etc/group"} {
		fi, err := fsys.Stat(name)
		if err != nil {
			return checks.FromError("stat "+name, err), nil
		}
		perm := fi.Perm()
		modes[name] = int64(perm)
		if perm&0o022 != 0 {
			writable = true
			problems = append(problems, fmt.Sprintf("%s is writable by group or others (mode %04o)", name, perm))
		}
		if fi.UID != 0 {
			writable = true
			problems = append(problems, fmt.Sprintf("%s is owned by UID %d, not root", name, fi.UID))
		}
		if perm&0o7111 != 0 {
			problems = append(problems, fmt.Sprintf("%s has execute or special bits set (mode %04o)", name, perm))
		}
	}
	var res checks.Result
	if len(problems) == 0 {
		res = checks.Pass("/etc/passwd and /etc/group are owned by root and writable only by root")
	} else {
		res = checks.Fail("%s", problems[0])
		for _, p := range problems[1:] {
			res = res.Detail("%s", p)
		}
		if !writable {
			res = res.WithSeverity(catalog.SeverityLow)
		}
	}
	return res.Int("passwd_mode", modes["/etc/passwd"]).Int("group_mode", modes["/etc/group"]).Bool("writable_by_others", writable), nil
}

// uid0Accounts: every account with UID 0 is root, whatever its name.
type uid0Accounts struct{}

func (uid0Accounts) ID() string { return "system.uid0-accounts" }

func (uid0Accounts) Run(_ context.Context, h host.Host) (checks.Result, error) {
	records, malformed, err := readColonFile(h.FS(), "/etc/passwd", 7)
	if err != nil {
		return checks.FromError("read /etc/passwd", err), nil
	}
	if len(records) == 0 {
		return checks.Error(report.ReasonParseError, "/etc/passwd has no valid entries"), nil
	}
	var extra []string
	count := 0
	for _, r := range records {
		if r.fields[2] != "0" {
			continue
		}
		count++
		if r.fields[0] != "root" {
			extra = append(extra, fmt.Sprintf("%q (line %d)", r.fields[0], r.line))
		}
	}
	var res checks.Result
	switch {
	case len(extra) > 0:
		res = checks.Fail("%d account(s) besides root have UID 0", len(extra)).Detail("UID 0 accounts other than root: %s", strings.Join(extra, ", "))
	case count == 0:
		res = checks.Fail("no account has UID 0 (root is missing or renamed)").WithSeverity(catalog.SeverityMedium)
	default:
		res = checks.Pass("root is the only account with UID 0")
	}
	if len(malformed) > 0 {
		res = res.Detail("ignored %d malformed line(s) in /etc/passwd: %s", len(malformed), joinInts(malformed))
	}
	return res.Int("uid0_accounts", int64(count)), nil
}

// emptyPasswords: an account whose password field is empty logs in without a password
// wherever password authentication is accepted.
type emptyPasswords struct{}

func (emptyPasswords) ID() string { return "system.empty-passwords" }

func (emptyPasswords) Run(_ context.Context, h host.Host) (checks.Result, error) {
	fsys := h.FS()
	passwd, _, err := readColonFile(fsys, "/etc/passwd", 7)
	if err != nil {
		return checks.FromError("read /etc/passwd", err), nil
	}
	var empty, noLogin []string
	shadowed := map[string]bool{}
	canLogin := map[string]bool{}
	for _, r := range passwd {
		name := r.fields[0]
		canLogin[name] = loginShell(r.fields[6])
		switch r.fields[1] {
		case "":
			if canLogin[name] {
				empty = append(empty, fmt.Sprintf("%q (/etc/passwd line %d)", name, r.line))
			} else {
				noLogin = append(noLogin, fmt.Sprintf("%q", name))
			}
		case "x":
			shadowed[name] = true
		}
	}
	shadow, _, err := readColonFile(fsys, "/etc/shadow", 2)
	switch {
	case err == nil:
		for _, r := range shadow {
			name := r.fields[0]
			if r.fields[1] != "" || !shadowed[name] {
				continue
			}
			if canLogin[name] {
				empty = append(empty, fmt.Sprintf("%q (/etc/shadow line %d)", name, r.line))
			} else {
				noLogin = append(noLogin, fmt.Sprintf("%q", name))
			}
		}
	case errors.Is(err, fs.ErrNotExist) && len(shadowed) == 0:
		// No shadow file and no account refers to it: /etc/passwd alone decides.
	default:
		return checks.FromError("read /etc/shadow", err), nil
	}
	res := checks.Pass("every account has a password hash or is locked")
	if len(empty) > 0 {
		res = checks.Fail("%d account(s) with a login shell have an empty password field", len(empty)).Detail("accounts: %s", strings.Join(empty, ", "))
	}
	if len(noLogin) > 0 {
		res = res.Detail("empty password but no login shell (not counted; lock them with passwd -l): %s", strings.Join(noLogin, ", "))
	}
	return res.Int("empty_password_accounts", int64(len(empty))).Int("empty_password_nologin", int64(len(noLogin))), nil
}

// loginShell reports whether a passwd shell field allows an interactive login. An empty
// field means /bin/sh.
func loginShell(shell string) bool {
	switch path.Base(strings.TrimSpace(shell)) {
	case "nologin", "false":
		return false
	}
	return true
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}
