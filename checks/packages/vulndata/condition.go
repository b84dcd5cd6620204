package vulndata

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// Condition kinds: what makes a flaw reachable.
const (
	// CondSSHDLoginGraceTime: sshd's LoginGraceTime is not 0 (regreSSHion needs the
	// SIGALRM the grace timer raises). Written "sshd:logingracetime!=0".
	CondSSHDLoginGraceTime = "sshd:logingracetime!=0"
	// CondSSHDTerrapin: sshd offers chacha20-poly1305 or a CBC cipher with an
	// encrypt-then-MAC MAC (the modes Terrapin needs). Written "sshd:terrapin-modes".
	CondSSHDTerrapin = "sshd:terrapin-modes"
	// CondNginxHTTP2: some nginx listener speaks HTTP/2 ("listen … http2" or "http2 on").
	CondNginxHTTP2 = "nginx_http2"
	// kinds with an argument
	kindSSHConfig      = "ssh_config"      // ssh_config:<keyword>=yes in the system client config
	kindFileMode       = "file_mode"       // file_mode:<path>:setuid
	kindNginxDirective = "nginx_directive" // nginx_directive:<name> used anywhere
)

// Condition is a parsed exposure condition.
type Condition struct {
	// Kind is one of the Cond* constants or an argument kind (ssh_config, file_mode,
	// nginx_directive).
	Kind string
	// Arg is the keyword, path or directive the kind takes.
	Arg string
}

// String is the condition as written in the data.
func (c Condition) String() string {
	switch c.Kind {
	case kindSSHConfig:
		return kindSSHConfig + ":" + c.Arg + "=yes"
	case kindFileMode:
		return kindFileMode + ":" + c.Arg + ":setuid"
	case kindNginxDirective:
		return kindNginxDirective + ":" + c.Arg
	}
	return c.Kind
}

var (
	directiveName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	sshKeyword    = regexp.MustCompile(`^[a-z]{2,40}$`)
)

// ParseCondition parses a condition of the data file.
func ParseCondition(s string) (Condition, error) {
	switch s {
	case CondSSHDLoginGraceTime, CondSSHDTerrapin, CondNginxHTTP2:
		return Condition{Kind: s}, nil
	}
	kind, arg, _ := strings.Cut(s, ":")
	switch kind {
	case kindSSHConfig:
		kw, ok := strings.CutSuffix(arg, "=yes")
		if ok && sshKeyword.MatchString(kw) {
			return Condition{Kind: kind, Arg: kw}, nil
		}
	case kindFileMode:
		p, ok := strings.CutSuffix(arg, ":setuid")
		if ok && path.IsAbs(p) && path.Clean(p) == p {
			return Condition{Kind: kind, Arg: p}, nil
		}
	case kindNginxDirective:
		if directiveName.MatchString(arg) {
			return Condition{Kind: kind, Arg: arg}, nil
		}
	}
	return Condition{}, fmt.Errorf("unknown condition %q", s)
}

// Evaluator decides whether conditions hold on a host. It reads only what each condition
// needs: the sshd and ssh client configuration files, nginx's configuration files and the
// mode of one file. sshd conditions are answered from SSHD when the caller has sshd's
// effective configuration (the ssh family); otherwise from a minimal reading of
// /etc/ssh/sshd_config and its Include files outside Match blocks.
type Evaluator struct {
	// FS is the audited root.
	FS host.FS
	// SSHD, when set, returns the effective value of an sshd keyword (lower-case, as
	// `sshd -T` prints it) and whether it is known.
	SSHD func(keyword string) (string, bool)

	sshd  map[string]string
	sshdE error
	nginx *nginxConf
}

// Exposed reports whether condition c holds. why says what was seen, for the details.
// An error means the condition could not be decided; callers count that as exposed.
func (ev *Evaluator) Exposed(c Condition) (bool, string, error) {
	switch c.Kind {
	case CondSSHDLoginGraceTime:
		v, err := ev.sshdValue("logingracetime")
		if err != nil {
			return true, "", err
		}
		if v == "" {
			return true, "LoginGraceTime is not set (default 120 seconds)", nil
		}
		if isZeroTime(v) {
			return false, "LoginGraceTime is 0", nil
		}
		return true, "LoginGraceTime is " + v, nil
	case CondSSHDTerrapin:
		ciphers, err := ev.sshdValue("ciphers")
		if err != nil {
			return true, "", err
		}
		macs, _ := ev.sshdValue("macs")
		return terrapinModes(ciphers, macs)
	case kindSSHConfig:
		return ev.sshConfigYes(c.Arg)
	case kindFileMode:
		fi, err := ev.FS.Stat(c.Arg)
		if errors.Is(err, fs.ErrNotExist) {
			return false, c.Arg + " does not exist", nil
		}
		if err != nil {
			return true, "", err
		}
		if fi.Mode&fs.ModeSetuid != 0 {
			return true, c.Arg + " is setuid", nil
		}
		return false, c.Arg + " is not setuid", nil
	case kindNginxDirective, CondNginxHTTP2:
		if ev.nginx == nil {
			ev.nginx = readNginxConf(ev.FS)
		}
		return ev.nginx.exposed(c)
	}
	return true, "", fmt.Errorf("unknown condition %q", c.Kind)
}

// isZeroTime reports whether an sshd time value ("0", "0s", "0m") is zero.
func isZeroTime(v string) bool {
	v = strings.TrimRight(strings.ToLower(v), "smhdw")
	return v != "" && strings.Trim(v, "0") == ""
}

// terrapinModes decides the Terrapin condition from sshd's Ciphers and MACs values (""
// when unset: OpenSSH's defaults offer chacha20-poly1305).
func terrapinModes(ciphers, macs string) (bool, string, error) {
	const chacha = "chacha20-poly1305@openssh.com"
	switch {
	case ciphers == "", strings.HasPrefix(ciphers, "+"), strings.HasPrefix(ciphers, "^"):
		return true, "the default ciphers, which include " + chacha, nil
	case strings.HasPrefix(ciphers, "-"):
		if strings.Contains(ciphers, "chacha20") {
			return false, "chacha20-poly1305 is removed from the default ciphers", nil
		}
		return true, "the default ciphers, which include " + chacha, nil
	}
	list := strings.Split(strings.ToLower(ciphers), ",")
	if slices.Contains(list, chacha) {
		return true, "Ciphers includes " + chacha, nil
	}
	cbc := slices.ContainsFunc(list, func(c string) bool { return strings.HasSuffix(c, "-cbc") })
	etm := macs == "" || strings.HasPrefix(macs, "+") || strings.HasPrefix(macs, "^") || strings.Contains(macs, "-etm@openssh.com")
	if cbc && etm {
		return true, "a CBC cipher is offered with encrypt-then-MAC MACs", nil
	}
	return false, "neither chacha20-poly1305 nor CBC with encrypt-then-MAC is offered", nil
}

// sshdValue returns an sshd keyword's value from SSHD, or from the minimal reading.
func (ev *Evaluator) sshdValue(key string) (string, error) {
	if ev.SSHD != nil {
		if v, ok := ev.SSHD(key); ok {
			return v, nil
		}
	}
	if ev.sshd == nil && ev.sshdE == nil {
		ev.sshd, ev.sshdE = readSSHDMinimal(ev.FS)
	}
	return ev.sshd[key], ev.sshdE
}

// maxIncludes bounds the files the minimal readers follow.
const maxIncludes = 64

// readSSHDMinimal reads the first value of each keyword in /etc/ssh/sshd_config and the
// files it includes, stopping each file at its first Match block (sshd: first value wins).
func readSSHDMinimal(fsys host.FS) (map[string]string, error) {
	out := map[string]string{}
	files := 0
	var read func(name string, depth int) error
	read = func(name string, depth int) error {
		if depth > 8 || files >= maxIncludes {
			return nil
		}
		files++
		data, err := host.ReadFileLimit(fsys, name, 1<<20)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(strings.ReplaceAll(line, "=", " "))
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			key := strings.ToLower(fields[0])
			if key == "match" {
				return nil
			}
			if key == "include" {
				for _, pat := range fields[1:] {
					if !path.IsAbs(pat) {
						pat = path.Join("/etc/ssh", pat)
					}
					names, _ := host.Glob(fsys, pat)
					for _, n := range names {
						if err := read(n, depth+1); err != nil && !errors.Is(err, fs.ErrNotExist) {
							return err
						}
					}
				}
				continue
			}
			if _, seen := out[key]; !seen && len(fields) > 1 {
				out[key] = fields[1]
			}
		}
		return nil
	}
	if err := read("/etc/ssh/sshd_config", 0); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return out, nil
		}
		return nil, err
	}
	return out, nil
}

// sshConfigYes reports whether the system-wide ssh client configuration sets keyword to
// yes in any Host block. Per-user ~/.ssh/config files are not read: the agent never walks
// home directories.
func (ev *Evaluator) sshConfigYes(keyword string) (bool, string, error) {
	names := []string{"/etc/ssh/ssh_config"}
	more, _ := host.Glob(ev.FS, "/etc/ssh/ssh_config.d/*.conf")
	names = append(names, more...)
	for _, n := range names {
		data, err := host.ReadFileLimit(ev.FS, n, 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return true, "", err
		}
		for i, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(strings.ReplaceAll(line, "=", " "))
			if len(fields) >= 2 && strings.EqualFold(fields[0], keyword) && strings.EqualFold(fields[1], "yes") {
				return true, fmt.Sprintf("%s:%d sets %s yes", n, i+1, fields[0]), nil
			}
		}
	}
	return false, "no system-wide ssh client configuration sets " + keyword + " yes (per-user files are not read)", nil
}
