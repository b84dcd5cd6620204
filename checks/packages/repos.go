package packages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// securityRepository: without the security suite in the sources, apt never sees a
// security fix, and every other update check under-counts.
func securityRepository(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	inv, _ := f.inv.Get(ctx, h)
	if inv.osErr != nil {
		return checks.FromError("read os-release", inv.osErr), nil
	}
	if !inv.debianLike() {
		if inv.redHatLike() || inv.os.ID == "alpine" {
			return checks.Skip(report.ReasonNotApplicable, "%s publishes security fixes in its regular repositories; there is no separate security suite to configure", inv.os.ID).
				Enum("distro", distroEnum(inv.os.ID)), nil
		}
		return checks.Skip(report.ReasonNotSupported, "security repositories are checked for Debian and Ubuntu only").Enum("distro", distroEnum(inv.os.ID)), nil
	}
	st, _ := f.sources.Get(ctx, h)
	if st.err != nil {
		return checks.FromError("read the apt sources", st.err), nil
	}
	codename := inv.os.Codename
	var security []aptSource
	binary, oneLine, deb822 := 0, 0, 0
	for _, s := range st.sources {
		if s.deb822 {
			deb822++
		} else {
			oneLine++
		}
		if !containsString(s.types, "deb") {
			continue
		}
		binary++
		for _, suite := range s.suites {
			if securitySuite(suite, codename) {
				security = append(security, s)
				break
			}
		}
	}
	format := "none"
	switch {
	case oneLine > 0 && deb822 > 0:
		format = "both"
	case deb822 > 0:
		format = "deb822"
	case oneLine > 0:
		format = "one-line"
	}
	var res checks.Result
	switch {
	case len(security) > 0:
		res = checks.Pass("the security suite is configured (%d entr%s)", len(security), plural(len(security), "y", "ies"))
		for _, s := range security {
			res = res.Detail("security entry at %s: %s %s", s.where, strings.Join(s.uris, " "), strings.Join(s.suites, " "))
		}
	case codename == "":
		res = checks.Fail("no enabled apt entry names a security suite (os-release has no VERSION_CODENAME to match it against)")
	default:
		res = checks.Fail("no enabled apt entry names the %s-security suite: security fixes are never fetched", codename)
	}
	return res.Int("security_sources", int64(len(security))).Int("sources", int64(binary)).
		Enum("format", format).Enum("distro", distroEnum(inv.os.ID)), nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// insecureAptOptions are apt options that accept unsigned or unverifiable repositories.
func insecureAptOptions() []string {
	return []string{
		"APT::Get::AllowUnauthenticated",
		"Acquire::AllowInsecureRepositories",
		"Acquire::AllowDowngradeToInsecureRepositories",
	}
}

// signatureChecking: a repository whose signatures are not checked lets whoever sits on the
// network path (or controls the mirror) install code as root.
func signatureChecking(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	inv, _ := f.inv.Get(ctx, h)
	if inv.osErr != nil {
		return checks.FromError("read os-release", inv.osErr), nil
	}
	switch {
	case inv.debianLike():
		return aptSignatures(ctx, f, h)
	case inv.redHatLike():
		return dnfSignatures(h)
	case inv.os.ID == "alpine":
		return apkSignatures(h)
	}
	return checks.Skip(report.ReasonNotSupported, "signature checking is evaluated for apt, dnf/yum and apk only").Enum("distro", distroEnum(inv.os.ID)), nil
}

func aptSignatures(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	src, _ := f.sources.Get(ctx, h)
	if src.err != nil {
		return checks.FromError("read the apt sources", src.err), nil
	}
	conf, _ := f.aptConf.Get(ctx, h)
	if conf.err != nil {
		return checks.FromError("read the apt configuration", conf.err), nil
	}
	var trusted []aptSource
	for _, s := range src.sources {
		if s.trusted {
			trusted = append(trusted, s)
		}
	}
	var options []string
	for _, o := range insecureAptOptions() {
		if v, ok := conf.conf.get(o); ok && isYes(v.value) {
			options = append(options, fmt.Sprintf("%s %q at %s", o, v.value, v.where))
		}
	}
	var res checks.Result
	switch {
	case len(trusted) > 0 || len(options) > 0:
		res = checks.Fail("apt accepts unsigned packages: %d source(s) marked trusted, %d option(s) allowing unauthenticated repositories", len(trusted), len(options))
		for _, s := range trusted {
			res = res.Detail("trusted=yes at %s (%s)", s.where, strings.Join(s.uris, " "))
		}
		for _, o := range options {
			res = res.Detail("%s", o)
		}
	default:
		res = checks.Pass("apt verifies the signatures of all %d source entr%s", len(src.sources), plural(len(src.sources), "y", "ies"))
	}
	return res.Enum("manager", "apt").Int("unsigned_sources", int64(len(trusted))).
		Int("insecure_options", int64(len(options))).Int("repositories", int64(len(src.sources))), nil
}

// iniFile is a parsed dnf/yum INI file: section → key → value (keys lower-cased).
type iniFile map[string]map[string]string

// parseINI parses the INI dialect of dnf.conf and .repo files: [section] headers,
// key=value lines, "#" and ";" comments, continuation lines starting with white space. A
// line that is none of these is malformed.
func parseINI(name, data string) (iniFile, error) {
	out := iniFile{}
	section, last := "", ""
	for i, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";"):
			continue
		case line[0] == ' ' || line[0] == '\t':
			if section != "" && last != "" {
				out[section][last] += " " + trimmed
				continue
			}
			return nil, fmt.Errorf("parse %s:%d: continuation outside a key: %w", name, i+1, checks.ErrParse)
		case strings.HasPrefix(trimmed, "["):
			if !strings.HasSuffix(trimmed, "]") || len(trimmed) < 3 {
				return nil, fmt.Errorf("parse %s:%d: malformed section header: %w", name, i+1, checks.ErrParse)
			}
			section, last = trimmed[1:len(trimmed)-1], ""
			if out[section] == nil {
				out[section] = map[string]string{}
			}
		default:
			key, val, ok := strings.Cut(trimmed, "=")
			if !ok || section == "" {
				return nil, fmt.Errorf("parse %s:%d: expected key=value inside a section: %w", name, i+1, checks.ErrParse)
			}
			last = strings.ToLower(strings.TrimSpace(key))
			out[section][last] = strings.TrimSpace(val)
		}
	}
	return out, nil
}

// dnfBool reads dnf's boolean spellings; ok is false when the value is unset or unknown.
func dnfBool(v string, set bool) (bool, bool) {
	if !set {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

func dnfSignatures(h host.Host) (checks.Result, error) {
	fsys := h.FS()
	// The [main] gpgcheck applies to repositories that do not set their own; dnf's
	// built-in default is off, the shipped dnf.conf turns it on.
	mainCheck, mainFrom := false, "dnf's built-in default (off)"
	for _, name := range []string{"/etc/yum.conf", "/etc/dnf/dnf.conf"} {
		data, err := host.ReadFileLimit(fsys, name, 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return checks.FromError("read "+name, err), nil
		}
		ini, err := parseINI(name, string(data))
		if err != nil {
			return checks.FromError("parse "+name, err), nil
		}
		v, set := ini["main"]["gpgcheck"]
		if b, ok := dnfBool(v, set); ok {
			mainCheck, mainFrom = b, name
		}
	}
	repoFiles, err := host.Glob(fsys, "/etc/yum.repos.d/*.repo")
	if err != nil {
		return checks.FromError("list /etc/yum.repos.d", err), nil
	}
	var unsigned []string
	repos := 0
	for _, name := range repoFiles {
		data, err := host.ReadFileLimit(fsys, name, 1<<20)
		if err != nil {
			return checks.FromError("read "+name, err), nil
		}
		ini, err := parseINI(name, string(data))
		if err != nil {
			return checks.FromError("parse "+name, err), nil
		}
		for section, kv := range ini {
			v, set := kv["enabled"]
			if enabled, ok := dnfBool(v, set); ok && !enabled {
				continue
			}
			repos++
			v, set = kv["gpgcheck"]
			check, ok := dnfBool(v, set)
			if !ok {
				check = mainCheck
			}
			if !check {
				unsigned = append(unsigned, fmt.Sprintf("repository [%s] in %s", section, name))
			}
		}
	}
	var res checks.Result
	switch {
	case len(unsigned) > 0:
		res = checks.Fail("%d enabled repositor%s without gpgcheck", len(unsigned), plural(len(unsigned), "y", "ies"))
		for _, u := range unsigned {
			res = res.Detail("%s installs unsigned packages", u)
		}
	default:
		res = checks.Pass("all %d enabled repositor%s check package signatures", repos, plural(repos, "y", "ies"))
	}
	return res.Detail("[main] gpgcheck from %s: %v", mainFrom, mainCheck).Enum("manager", "dnf").
		Int("unsigned_sources", int64(len(unsigned))).Int("insecure_options", 0).Int("repositories", int64(repos)), nil
}

func apkSignatures(h host.Host) (checks.Result, error) {
	names, err := h.FS().ReadDir("/etc/apk/keys")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return checks.FromError("list /etc/apk/keys", err), nil
	}
	keys := 0
	for _, n := range names {
		if strings.HasSuffix(n, ".pub") {
			keys++
		}
	}
	if keys == 0 {
		return checks.Fail("/etc/apk/keys holds no public key: apk cannot verify any repository index").
			Enum("manager", "apk").Int("keys", 0), nil
	}
	return checks.Pass("apk verifies repository indexes against %d trusted key(s) in /etc/apk/keys", keys).
		Enum("manager", "apk").Int("keys", int64(keys)), nil
}
