package docker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// defaultConfigFile is where dockerd reads daemon.json unless --config-file says otherwise
// (a rootless daemon reads ~/.config/docker/daemon.json).
const defaultConfigFile = "/etc/docker/daemon.json"

// maxConfigSize bounds daemon.json.
const maxConfigSize = 1 << 20

// settings are the daemon options the checks judge, from one source (daemon.json, a
// command line). Pointers and nil slices and maps are "not set".
type settings struct {
	hosts              []string
	tls, tlsVerify     *bool
	icc, iptables      *bool
	noNewPrivileges    *bool
	rootless           *bool
	usernsRemap        *string
	logDriver          *string
	ip                 *string
	insecureRegistries []string
	logOpts            map[string]string
	// configFile is --config-file (command line only).
	configFile string
}

// fileSettings is the part of daemon.json the checks read. Decoding is strict about types
// (dockerd refuses a file whose values have the wrong type) and ignores other keys.
type fileSettings struct {
	Hosts              []string          `json:"hosts"`
	TLS                *bool             `json:"tls"`
	TLSVerify          *bool             `json:"tlsverify"`
	ICC                *bool             `json:"icc"`
	IPTables           *bool             `json:"iptables"`
	NoNewPrivileges    *bool             `json:"no-new-privileges"`
	UsernsRemap        *string           `json:"userns-remap"`
	LogDriver          *string           `json:"log-driver"`
	IP                 *string           `json:"ip"`
	InsecureRegistries []string          `json:"insecure-registries"`
	LogOpts            map[string]string `json:"log-opts"`
}

// parseDaemonJSON parses daemon.json as dockerd does: a UTF-8 byte order mark is skipped
// and an empty file is an empty configuration; anything but one JSON object is an error.
func parseDaemonJSON(data []byte) (settings, error) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return settings{}, nil
	}
	if data[0] != '{' {
		return settings{}, fmt.Errorf("%w: not a JSON object", checks.ErrParse)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var f fileSettings
	if err := dec.Decode(&f); err != nil {
		return settings{}, fmt.Errorf("%w: %v", checks.ErrParse, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return settings{}, fmt.Errorf("%w: data after the JSON object", checks.ErrParse)
	}
	return settings{
		hosts: f.Hosts, tls: f.TLS, tlsVerify: f.TLSVerify, icc: f.ICC, iptables: f.IPTables,
		noNewPrivileges: f.NoNewPrivileges, usernsRemap: f.UsernsRemap, logDriver: f.LogDriver,
		ip: f.IP, insecureRegistries: f.InsecureRegistries, logOpts: f.LogOpts,
	}, nil
}

// parseFlags reads the options the checks judge from dockerd's arguments (without the
// program name), as pflag does: --name=value or --name value for strings, --name or
// --name=bool for booleans, -H value, -H=value and -Hvalue for hosts. Unknown options are
// ignored; a boolean with an invalid value is ignored (dockerd would not start).
func parseFlags(args []string) settings {
	var s settings
	boolOpt := func(dst **bool, val string, hasVal bool) {
		v := true
		if hasVal {
			b, err := strconv.ParseBool(val)
			if err != nil {
				return
			}
			v = b
		}
		*dst = &v
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		if strings.HasPrefix(a, "-H") {
			name, val, hasVal = "--host", strings.TrimPrefix(a[2:], "="), len(a) > 2
		}
		value := func() (string, bool) {
			if hasVal {
				return val, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		str := func() *string {
			v, ok := value()
			if !ok {
				return nil
			}
			return &v
		}
		switch name {
		case "--host":
			if v, ok := value(); ok {
				s.hosts = append(s.hosts, v)
			}
		case "--config-file":
			if v, ok := value(); ok {
				s.configFile = v
			}
		case "--insecure-registry":
			if v, ok := value(); ok {
				s.insecureRegistries = append(s.insecureRegistries, v)
			}
		case "--log-opt":
			if v, ok := value(); ok {
				k, optVal, _ := strings.Cut(v, "=")
				if s.logOpts == nil {
					s.logOpts = map[string]string{}
				}
				s.logOpts[k] = optVal
			}
		case "--userns-remap":
			s.usernsRemap = str()
		case "--log-driver":
			s.logDriver = str()
		case "--ip":
			s.ip = str()
		case "--tls":
			boolOpt(&s.tls, val, hasVal)
		case "--tlsverify":
			boolOpt(&s.tlsVerify, val, hasVal)
		case "--icc":
			boolOpt(&s.icc, val, hasVal)
		case "--iptables":
			boolOpt(&s.iptables, val, hasVal)
		case "--no-new-privileges":
			boolOpt(&s.noNewPrivileges, val, hasVal)
		case "--rootless":
			boolOpt(&s.rootless, val, hasVal)
		}
	}
	return s
}

// effectiveConfig is the configuration dockerd runs with: daemon.json overridden by its
// command line. origin names where each option came from, for the details.
type effectiveConfig struct {
	settings
	// file is the daemon.json read; fileFound whether it exists.
	file      string
	fileFound bool
	// flagsFrom names the command line read ("dockerd (pid 42) command line", a unit's
	// ExecStart), or "".
	flagsFrom string
	origin    map[string]string
	// conflicts explains options set in both places.
	conflicts []string
}

// from says where an option came from: daemon.json's path, the command line, or "the
// default".
func (c effectiveConfig) from(option string) string {
	if o := c.origin[option]; o != "" {
		return o
	}
	return "the default"
}

// setting describes an option's effective value and its origin for the details:
// "icc false (from /etc/docker/daemon.json)", "iptables true (the default)".
func (c effectiveConfig) setting(option string, value any) string {
	if o := c.origin[option]; o != "" {
		return fmt.Sprintf("%s %v (from %s)", option, value, o)
	}
	return fmt.Sprintf("%s %v (the default)", option, value)
}

// iccOn, iptablesOn, defaults of dockerd.
func (c effectiveConfig) iccOn() bool      { return c.icc == nil || *c.icc }
func (c effectiveConfig) iptablesOn() bool { return c.iptables == nil || *c.iptables }

// bindIP is the address ports are published on when a container names none.
func (c effectiveConfig) bindIP() string {
	if c.ip == nil || *c.ip == "" {
		return "0.0.0.0"
	}
	return *c.ip
}

// readConfig reads daemon.json and the command line of d (or, without a process on an
// offline root, the docker.service unit) and merges them. A missing daemon.json is an
// empty configuration; a malformed one is an error wrapping checks.ErrParse.
func readConfig(fsys host.FS, d *daemonProc, rootlessUID int, live bool) (effectiveConfig, error) {
	c := effectiveConfig{origin: map[string]string{}}
	var flags settings
	switch {
	case d != nil:
		flags, c.flagsFrom = d.flags, d.label()+" command line"
	case !live:
		flags, c.flagsFrom = readUnitFlags(fsys)
	}
	c.file = defaultConfigFile
	switch {
	case flags.configFile != "":
		c.file = flags.configFile
	case rootlessUID >= 0:
		if home := homeOf(fsys, rootlessUID); home != "" {
			c.file = path.Join(home, ".config/docker/daemon.json")
		}
	}
	var file settings
	data, err := host.ReadFileLimit(fsys, c.file, maxConfigSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return c, fmt.Errorf("read %s: %w", c.file, err)
	default:
		c.fileFound = true
		if file, err = parseDaemonJSON(data); err != nil {
			return c, fmt.Errorf("parse %s: %w", c.file, err)
		}
	}
	c.merge(file, flags)
	return c, nil
}

// merge sets the effective options: the command line wins over the file, as in dockerd
// (which refuses to start when both set an option; a running daemon with both was started
// before the file changed).
func (c *effectiveConfig) merge(file, flags settings) {
	fileName := c.file
	conflict := func(option, inFile, onFlags string) {
		if inFile != onFlags {
			c.conflicts = append(c.conflicts, fmt.Sprintf("%s is %s in %s but %s on the %s; the command line is in effect",
				option, inFile, c.file, onFlags, c.flagsFrom))
		}
	}
	bools := []struct {
		name        string
		dst         **bool
		file, flags *bool
	}{
		{"tls", &c.tls, file.tls, flags.tls}, {"tlsverify", &c.tlsVerify, file.tlsVerify, flags.tlsVerify},
		{"icc", &c.icc, file.icc, flags.icc}, {"iptables", &c.iptables, file.iptables, flags.iptables},
		{"no-new-privileges", &c.noNewPrivileges, file.noNewPrivileges, flags.noNewPrivileges},
		{"rootless", &c.rootless, file.rootless, flags.rootless},
	}
	for _, b := range bools {
		switch {
		case b.flags != nil:
			*b.dst, c.origin[b.name] = b.flags, c.flagsFrom
			if b.file != nil {
				conflict(b.name, strconv.FormatBool(*b.file), strconv.FormatBool(*b.flags))
			}
		case b.file != nil:
			*b.dst, c.origin[b.name] = b.file, fileName
		}
	}
	strs := []struct {
		name        string
		dst         **string
		file, flags *string
	}{
		{"userns-remap", &c.usernsRemap, file.usernsRemap, flags.usernsRemap},
		{"log-driver", &c.logDriver, file.logDriver, flags.logDriver},
		{"ip", &c.ip, file.ip, flags.ip},
	}
	for _, s := range strs {
		switch {
		case s.flags != nil:
			*s.dst, c.origin[s.name] = s.flags, c.flagsFrom
			if s.file != nil {
				conflict(s.name, strconv.Quote(*s.file), strconv.Quote(*s.flags))
			}
		case s.file != nil:
			*s.dst, c.origin[s.name] = s.file, fileName
		}
	}
	lists := []struct {
		name        string
		dst         *[]string
		file, flags []string
	}{
		{"hosts", &c.hosts, file.hosts, flags.hosts},
		{"insecure-registries", &c.insecureRegistries, file.insecureRegistries, flags.insecureRegistries},
	}
	for _, l := range lists {
		switch {
		case l.flags != nil:
			*l.dst, c.origin[l.name] = l.flags, c.flagsFrom
			if l.file != nil {
				conflict(l.name, strings.Join(l.file, ","), strings.Join(l.flags, ","))
			}
		case l.file != nil:
			*l.dst, c.origin[l.name] = l.file, fileName
		}
	}
	switch {
	case flags.logOpts != nil:
		c.logOpts, c.origin["log-opts"] = flags.logOpts, c.flagsFrom
		if file.logOpts != nil && !maps.Equal(file.logOpts, flags.logOpts) {
			c.conflicts = append(c.conflicts, fmt.Sprintf("log-opts differ between %s and the %s; the command line is in effect", c.file, c.flagsFrom))
		}
	case file.logOpts != nil:
		c.logOpts, c.origin["log-opts"] = file.logOpts, fileName
	}
}

// unitPaths are the docker.service unit files, lowest precedence first; a unit in /etc
// replaces the packaged one, drop-ins amend it.
func unitPaths(fsys host.FS) []string {
	var out []string
	for _, p := range []string{"/etc/systemd/system/docker.service", "/usr/lib/systemd/system/docker.service", "/lib/systemd/system/docker.service"} {
		if _, err := fsys.Stat(p); err == nil {
			out = append(out, p)
			break
		}
	}
	for _, dir := range []string{"/usr/lib/systemd/system", "/lib/systemd/system", "/etc/systemd/system", "/run/systemd/system"} {
		conf, _ := host.Glob(fsys, dir+"/docker.service.d/*.conf")
		out = append(out, conf...)
	}
	return out
}

// readUnitFlags reads the dockerd options of docker.service's ExecStart (the last one; an
// empty ExecStart= resets). Environment variable references are dropped.
func readUnitFlags(fsys host.FS) (settings, string) {
	var argv []string
	from := ""
	for _, p := range unitPaths(fsys) {
		data, err := host.ReadFileLimit(fsys, p, maxConfigSize)
		if err != nil {
			continue
		}
		section := ""
		for _, line := range unitLines(string(data)) {
			if strings.HasPrefix(line, "[") {
				section = line
				continue
			}
			key, val, ok := strings.Cut(line, "=")
			if !ok || section != "[Service]" || strings.TrimSpace(key) != "ExecStart" {
				continue
			}
			val = strings.TrimSpace(val)
			if val == "" {
				argv, from = nil, ""
				continue
			}
			argv, from = splitExec(strings.TrimLeft(val, "-@:+!")), p+" ExecStart"
		}
	}
	if len(argv) < 2 {
		return settings{}, from
	}
	return parseFlags(argv[1:]), from
}

// unitLines joins continued lines and drops comments and blank lines.
func unitLines(text string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if cur == "" && (l == "" || l[0] == '#' || l[0] == ';') {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		out = append(out, cur+l)
		cur = ""
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// splitExec splits a unit's command line into words, honouring single and double quotes
// and dropping $VAR and ${VAR} words.
func splitExec(s string) []string {
	var out []string
	var cur strings.Builder
	quote := byte(0)
	in := false
	flush := func() {
		if in {
			w := cur.String()
			if !strings.HasPrefix(w, "$") {
				out = append(out, w)
			}
		}
		cur.Reset()
		in = false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(ch)
		case ch == '"' || ch == '\'':
			quote, in = ch, true
		case ch == ' ' || ch == '\t':
			flush()
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	flush()
	return out
}

// homeOf returns the home directory of uid from /etc/passwd, or "".
func homeOf(fsys host.FS, uid int) string {
	data, err := host.ReadFile(fsys, "/etc/passwd")
	if err != nil {
		return ""
	}
	want := strconv.Itoa(uid)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 6 && f[2] == want && strings.HasPrefix(f[5], "/") {
			return path.Clean(f[5])
		}
	}
	return ""
}
