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
)

// The parser reproduces how sshd (servconf.c) computes its effective configuration, so that
// an offline root or a host where `sshd -T` cannot run is judged by the same rules:
//
//   - keywords are case-insensitive; "Keyword value", "Keyword=value" and
//     "Keyword = value" are the same; arguments may be quoted;
//   - for most keywords the first value obtained wins; list keywords (Port, HostKey,
//     AllowUsers, DenyUsers, AllowGroups, DenyGroups, AcceptEnv, Subsystem …) accumulate;
//     MaxStartups is the exception where the last line wins;
//   - Include expands glob patterns (relative ones under /etc/ssh) in sorted order, at most
//     16 levels deep, and parses each file in place;
//   - sshd reads the file twice: once without a connection (global lines and "Match All"
//     apply; keywords not allowed after Match are an error there) and once for the
//     connection, where only matching Match blocks apply and override the first pass for
//     the keywords Match may change.
//
// Any line sshd would reject makes the whole configuration invalid, as it does for sshd.

// sshDir is where sshd resolves relative Include patterns (SSHDIR).
const sshDir = "/etc/ssh"

// mainConfig is sshd's default configuration file.
const mainConfig = "/etc/ssh/sshd_config"

// maxIncludeDepth is SERVCONF_MAX_DEPTH.
const maxIncludeDepth = 16

// maxPorts is MAX_PORTS.
const maxPorts = 256

// Probe is the connection Match blocks are evaluated for, as `sshd -T -C` takes it.
type Probe struct {
	User, Host, Addr, LAddr string
	LPort                   int
	// RDomain is the routing domain; "" means none, which no "Match RDomain" matches.
	RDomain string
}

// Spec is the -C argument describing the probe.
func (p Probe) Spec() string {
	s := fmt.Sprintf("user=%s,host=%s,addr=%s", p.User, p.Host, p.Addr)
	if p.LAddr != "" {
		s += ",laddr=" + p.LAddr
	}
	if p.LPort > 0 {
		s += ",lport=" + strconv.Itoa(p.LPort)
	}
	if p.RDomain != "" {
		s += ",rdomain=" + p.RDomain
	}
	return s
}

// defaultProbe is a generic remote login by an account that does not exist: addresses from
// the documentation ranges (RFC 5737), a host name under the reserved .invalid domain
// (RFC 6761), the standard port. Match blocks for real users, groups or the host's own
// addresses therefore do not apply; Match blocks for "*" or for other networks do.
var defaultProbe = Probe{
	User: "sa-audit-probe", Host: "sa-audit-probe.invalid",
	Addr: "198.51.100.1", LAddr: "192.0.2.1", LPort: 22,
}

// parseOptions configures parseConfig.
type parseOptions struct {
	// path is the main configuration file (mainConfig by default).
	path    string
	probe   Probe
	version Version
	alg     algorithms
}

// parsed is the parser's effective configuration.
type parsed struct {
	// values is the configuration in `sshd -T` form for the keys the parser models.
	values map[string][]string
	// files lists the configuration files read, the main file first.
	files []string
	// dirs lists the directories Include patterns read from, matched or not.
	dirs []string
	// warnings are notes for the local report (unknown keywords accepted leniently).
	warnings []string
}

// incFlags are the include states of servconf.c.
type incFlags int

const (
	flagMatchOnly  incFlags = 1 << iota // SSHCFG_MATCH_ONLY: inactive until a Match
	flagNeverMatch                      // SSHCFG_NEVERMATCH: inside an inactive Match
)

// store holds one pass's option values.
type store struct {
	single     map[string]string
	lists      map[string][]string
	ports      []int
	hostKeys   []string
	startups   [3]int64 // begin, rate, full; 0 = unset
	subsystems []string
}

func newStore() *store {
	return &store{single: map[string]string{}, lists: map[string][]string{}}
}

// parser parses one pass.
type parser struct {
	fsys     host.FS
	opt      parseOptions
	kw       map[string]keyword
	probe    *Probe // nil in the first pass
	st       *store
	files    *[]string
	dirs     *[]string
	warnings *[]string
	services map[string]int
	// cache holds what the first pass read for the second, as sshd's include cache does.
	cache *readCache
}

// readCache remembers glob expansions and file contents between the two passes, and
// counts the lines processed.
type readCache struct {
	globs map[string][]string
	data  map[string][]byte
	lines int
}

// maxLines bounds the lines both passes process together, so that includes fanning out
// over many levels cannot hold the audit (sshd itself would take as long).
const maxLines = 1 << 20

func (p *parser) glob(pattern string) ([]string, error) {
	if m, ok := p.cache.globs[pattern]; ok {
		return m, nil
	}
	m, err := globFS(p.fsys, pattern)
	if err == nil {
		p.cache.globs[pattern] = m
	}
	return m, err
}

func (p *parser) read(name string) ([]byte, error) {
	if d, ok := p.cache.data[name]; ok {
		return d, nil
	}
	d, err := readConfig(p.fsys, name)
	if err == nil {
		p.cache.data[name] = d
	}
	return d, err
}

// configError is a line sshd rejects.
func configError(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%s line %d: %s: %w", file, line, fmt.Sprintf(format, args...), checks.ErrParse)
}

// parseConfig computes the effective configuration for opt.probe.
func parseConfig(fsys host.FS, opt parseOptions) (*parsed, error) {
	if opt.path == "" {
		opt.path = mainConfig
	}
	data, err := readConfig(fsys, opt.path)
	if err != nil {
		return nil, err
	}
	out := &parsed{files: []string{opt.path}}
	kw := keywordTable()
	cache := &readCache{globs: map[string][]string{}, data: map[string][]byte{}}
	first := &parser{fsys: fsys, opt: opt, kw: kw, st: newStore(), files: &out.files, dirs: &out.dirs, warnings: &out.warnings, cache: cache}
	active := true
	if err := first.parseFile(opt.path, data, &active, 0, 0); err != nil {
		return out, err
	}
	eff, err := first.finish()
	if err != nil {
		return out, err
	}
	probe := opt.probe
	second := &parser{fsys: fsys, opt: opt, kw: kw, probe: &probe, st: newStore(), files: new([]string), dirs: new([]string), warnings: new([]string), services: first.services, cache: cache}
	active = false
	if err := second.parseFile(opt.path, data, &active, flagMatchOnly, 0); err != nil {
		return out, err
	}
	if err := eff.apply(second.st, kw, opt.alg); err != nil {
		return out, err
	}
	out.values = eff.values
	return out, nil
}

// readConfig reads one configuration file. A directory reads as an empty file, as it does
// for sshd.
func readConfig(fsys host.FS, name string) ([]byte, error) {
	data, err := host.ReadFile(fsys, name)
	if errors.Is(err, host.ErrNotRegular) {
		if fi, serr := fsys.Stat(name); serr == nil && fi.IsDir() {
			return nil, nil
		}
	}
	return data, err
}

// parseFile parses one file's lines.
func (p *parser) parseFile(name string, data []byte, active *bool, flags incFlags, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: more than %d levels of Include: %w", name, maxIncludeDepth, checks.ErrParse)
	}
	if slices.Contains(data, 0) {
		return fmt.Errorf("%s: contains a NUL byte: %w", name, checks.ErrParse)
	}
	lines := strings.Split(string(data), "\n")
	if p.cache.lines += len(lines); p.cache.lines > maxLines {
		return fmt.Errorf("%s: the configuration and its includes exceed %d lines: %w", name, maxLines, checks.ErrParse)
	}
	for i, line := range lines {
		line = strings.TrimLeft(line, " \t\r")
		if err := p.line(name, i+1, line, active, &flags, depth); err != nil {
			return err
		}
	}
	return nil
}

// argList hands out a line's arguments.
type argList struct{ args []string }

func (a *argList) next() (string, bool) {
	if len(a.args) == 0 {
		return "", false
	}
	s := a.args[0]
	a.args = a.args[1:]
	return s, true
}

// asciiLower lower-cases ASCII letters only, as strcasecmp compares.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// lookup finds a keyword as the parser's OpenSSH release knows it.
func (p *parser) lookup(name string) (keyword, bool) {
	n := asciiLower(name)
	k, ok := p.kw[n]
	if !ok || !p.opt.version.AtLeast(k.since[0], k.since[1]) {
		return keyword{}, false
	}
	v := p.opt.version
	if !v.AtLeast(8, 7) && (n == "challengeresponseauthentication" || n == "skeyauthentication") {
		// Before 8.7 challenge-response was a separate, global option.
		return keyword{name: "challengeresponseauthentication", kind: kFlag}, true
	}
	if !v.AtLeast(8, 5) && (n == "pubkeyacceptedalgorithms" || n == "hostbasedacceptedalgorithms") {
		return keyword{}, false
	}
	return k, true
}

// newestKnown is the newest release whose keywords the table knows; for newer releases an
// unknown keyword is reported as a warning rather than taken for an error.
var newestKnown = [2]int{10, 0}

// line processes one configuration line (process_server_config_line_depth).
func (p *parser) line(file string, n int, raw string, active *bool, flags *incFlags, depth int) error {
	if raw == "" {
		return nil
	}
	line := raw
	for len(line) > 1 && strings.IndexByte(whitespace+"\f", line[len(line)-1]) >= 0 {
		line = line[:len(line)-1]
	}
	rest := &line
	kwName, ok := strdelim(&rest)
	if !ok {
		return nil
	}
	if kwName == "" {
		if kwName, ok = strdelim(&rest); !ok {
			return nil
		}
	}
	if kwName == "" || kwName[0] == '#' {
		return nil
	}
	if rest == nil || *rest == "" {
		return configError(file, n, "no argument after keyword %q", kwName)
	}
	k, known := p.lookup(kwName)
	argv, err := argvSplit(*rest)
	if err != nil {
		return configError(file, n, "invalid quotes")
	}
	if !known {
		if v := p.opt.version; v.Major > newestKnown[0] || (v.Major == newestKnown[0] && v.Minor > newestKnown[1]) {
			if p.probe == nil {
				*p.warnings = append(*p.warnings, fmt.Sprintf("%s line %d: keyword %q is unknown to the parser and was ignored", file, n, kwName))
			}
			return nil
		}
		return configError(file, n, "bad configuration option %q", kwName)
	}
	if !*active && !k.match {
		if p.probe == nil {
			return configError(file, n, "directive %q is not allowed within a Match block", kwName)
		}
		return nil
	}
	args := &argList{args: argv}
	if k.kind == kMatch {
		cond := *rest
		value, remaining, err := p.matchLine(&cond, *flags&flagNeverMatch != 0)
		if err != nil {
			return configError(file, n, "bad Match condition: %v", err)
		}
		*active = value && *flags&flagNeverMatch == 0
		*flags &^= flagMatchOnly
		if remaining == nil || *remaining == "" {
			args.args = nil
		}
	} else if err := p.option(k, args, file, n, active, *flags, depth); err != nil {
		return err
	}
	if len(args.args) > 0 {
		return configError(file, n, "keyword %q has extra arguments at end of line", kwName)
	}
	return nil
}

// setSingle records a first-wins value.
func (p *parser) setSingle(name, value string, active bool) {
	if !active {
		return
	}
	if _, set := p.st.single[name]; !set {
		p.st.single[name] = value
	}
}

// option processes the arguments of every keyword but Match.
func (p *parser) option(k keyword, args *argList, file string, n int, active *bool, flags incFlags, depth int) error {
	bad := func(format string, a ...any) error { return configError(file, n, format, a...) }
	arg, has := "", false
	one := func() error {
		arg, has = args.next()
		if !has || arg == "" {
			return bad("%s: missing argument", k.name)
		}
		return nil
	}
	switch k.kind {
	case kFlag:
		if err := one(); err != nil {
			return err
		}
		v := asciiLower(arg)
		if v != "yes" && v != "no" {
			return bad("unsupported option %q", arg)
		}
		p.setSingle(k.name, v, *active)
	case kMulti:
		if err := one(); err != nil {
			return err
		}
		v, ok := k.states[asciiLower(arg)]
		if !ok {
			return bad("unsupported option %q", arg)
		}
		p.setSingle(k.name, v, *active)
	case kTunnel:
		if err := one(); err != nil {
			return err
		}
		v, ok := statesTunnel[arg]
		if !ok {
			return bad("bad %s argument %q", k.name, arg)
		}
		p.setSingle(k.name, v, *active)
	case kInt:
		arg, has = args.next()
		v, ok := strtonum(arg, 0, maxInt)
		if !has || !ok {
			return bad("%s: invalid integer value %q", k.name, arg)
		}
		p.setSingle(k.name, strconv.FormatInt(v, 10), *active)
	case kTime:
		if err := one(); err != nil {
			return err
		}
		v := convtime(arg)
		if v < 0 {
			return bad("invalid time value %q", arg)
		}
		p.setSingle(k.name, strconv.FormatInt(v, 10), *active)
	case kLogLevel:
		arg, has = args.next()
		v, ok := statesLogLevels[asciiLower(arg)]
		if !has || !ok {
			return bad("unsupported log level %q", arg)
		}
		p.setSingle(k.name, v, *active)
	case kUserEnv:
		if err := one(); err != nil {
			return err
		}
		p.setSingle(k.name, arg, *active)
	case kMaxStartups:
		return p.maxStartups(args, bad)
	case kPort:
		if len(p.st.ports) >= maxPorts {
			return bad("too many ports")
		}
		if err := one(); err != nil {
			return err
		}
		port := p.a2port(arg)
		if port <= 0 {
			return bad("badly formatted port number %q", arg)
		}
		p.st.ports = append(p.st.ports, port)
	case kHostKey:
		if err := one(); err != nil {
			return err
		}
		if *active {
			p.st.hostKeys = append(p.st.hostKeys, derelativise(arg))
		}
	case kFileList:
		if err := one(); err != nil {
			return err
		}
		if *active {
			p.st.lists[k.name] = append(p.st.lists[k.name], derelativise(arg))
		}
	case kCiphers, kMACs, kKex, kKeyAlgs:
		if err := one(); err != nil {
			return err
		}
		if !p.validList(k.kind, arg) {
			return bad("bad %s list %q", k.name, arg)
		}
		p.setSingle(k.name, arg, *active)
	case kUsers, kGroups, kAcceptEnv:
		for {
			a, ok := args.next()
			if !ok {
				break
			}
			switch {
			case a == "":
				return bad("invalid %s pattern", k.name)
			case k.kind == kUsers && strings.Contains(a, "@"):
				_, at, _ := strings.Cut(a, "@")
				if addrMatchList("", at) == -2 {
					return bad("invalid %s pattern %q", k.name, a)
				}
			case k.kind == kAcceptEnv && strings.Contains(a, "="):
				return bad("invalid environment name %q", a)
			}
			if *active && k.kind != kAcceptEnv {
				p.st.lists[k.name] = append(p.st.lists[k.name], a)
			}
		}
	case kSubsystem:
		if err := one(); err != nil {
			return err
		}
		if slices.Contains(p.st.subsystems, arg) {
			return bad("subsystem %q already defined", arg)
		}
		p.st.subsystems = append(p.st.subsystems, arg)
		if cmd, ok := args.next(); !ok || cmd == "" {
			return bad("missing subsystem command")
		}
		args.args = nil
	case kListen:
		if err := one(); err != nil {
			return err
		}
		if a, ok := args.next(); ok {
			if a != "rdomain" {
				return bad("bad ListenAddress syntax")
			}
			if _, ok := args.next(); !ok {
				return bad("bad ListenAddress syntax")
			}
		}
	case kInclude:
		return p.include(args, file, n, active, flags, depth)
	case kOne:
		if err := one(); err != nil {
			return err
		}
	case kAny1:
		if len(args.args) == 0 {
			return bad("%s: missing argument", k.name)
		}
		args.args = nil
	case kAny0, kIgnored:
		args.args = nil
	}
	return nil
}

// maxStartups parses "start:rate:full" or "full". Unlike other keywords every line
// overwrites the previous value, and a single number keeps an earlier rate.
func (p *parser) maxStartups(args *argList, bad func(string, ...any) error) error {
	arg, has := args.next()
	if !has || arg == "" {
		return bad("maxstartups: missing argument")
	}
	n := scanInts(arg)
	switch len(n) {
	case 3:
		if n[0] > n[2] || n[1] > 100 || n[1] < 1 {
			return bad("invalid MaxStartups spec %q", arg)
		}
		p.st.startups = [3]int64{n[0], n[1], n[2]}
	case 1:
		p.st.startups[0], p.st.startups[2] = n[0], n[0]
	default:
		return bad("invalid MaxStartups spec %q", arg)
	}
	if p.st.startups[0] <= 0 || p.st.startups[2] <= 0 {
		return bad("invalid MaxStartups spec %q", arg)
	}
	return nil
}

// validList validates an algorithm list as sshd does at parse time: lists starting with
// "-" are not checked; others must name known algorithms (key algorithm lists may also
// hold patterns).
func (p *parser) validList(kind argKind, arg string) bool {
	if strings.HasPrefix(arg, "-") {
		return true
	}
	names := strings.TrimLeft(arg[:1], "+^") + arg[1:]
	a := p.opt.alg
	switch kind {
	case kCiphers:
		return validNames(names, a.ciphers)
	case kMACs:
		return validNames(names, a.macs)
	case kKex:
		return validNames(names, a.kex)
	}
	return validKeyNames(names, a.keys)
}

// derelativise makes a HostKey path absolute as sshd does: "~/" is root's home, a relative
// path is relative to sshd's working directory, "/".
func derelativise(p string) string {
	switch {
	case asciiLower(p) == "none":
		return "none"
	case p == "~" || strings.HasPrefix(p, "~/"):
		return "/root" + p[1:]
	case strings.HasPrefix(p, "/"):
		return p
	}
	return "//" + p
}

// a2port parses a port number or a TCP service name from /etc/services; -1 when neither.
func (p *parser) a2port(s string) int {
	if n, ok := strtonum(s, 0, 65535); ok {
		return int(n)
	}
	if p.services == nil {
		p.services = readServices(p.fsys)
	}
	if port, ok := p.services[s]; ok {
		return port
	}
	return -1
}

// readServices reads the TCP service names of /etc/services.
func readServices(fsys host.FS) map[string]int {
	out := map[string]int{}
	data, err := host.ReadFileLimit(fsys, "/etc/services", 1<<20)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		num, proto, ok := strings.Cut(f[1], "/")
		port, err := strconv.Atoi(num)
		if !ok || proto != "tcp" || err != nil || port < 0 || port > 65535 {
			continue
		}
		for _, name := range append([]string{f[0]}, f[2:]...) {
			if _, dup := out[name]; !dup {
				out[name] = port
			}
		}
	}
	return out
}

// include processes an Include line: each argument is a glob pattern, relative ones under
// /etc/ssh; matching files are parsed in sorted order in the including file's Match state,
// which they cannot change for the lines that follow.
func (p *parser) include(args *argList, file string, n int, active *bool, flags incFlags, depth int) error {
	count := 0
	for {
		arg, ok := args.next()
		if !ok {
			break
		}
		if arg == "" {
			return configError(file, n, "Include has an empty argument")
		}
		count++
		pattern := arg
		if arg[0] != '/' && arg[0] != '~' {
			pattern = sshDir + "/" + arg
		}
		oactive := *active
		sub := flagNeverMatch
		switch {
		case flags&flagMatchOnly != 0:
			sub = flagMatchOnly
		case oactive:
			sub = 0
		}
		if d := globDir(pattern); d != "" && !slices.Contains(*p.dirs, d) {
			*p.dirs = append(*p.dirs, d)
		}
		matches, err := p.glob(pattern)
		if err != nil {
			return fmt.Errorf("%s line %d: Include %s: %w", file, n, arg, err)
		}
		for _, m := range matches {
			data, err := p.read(m)
			if err != nil {
				return fmt.Errorf("%s line %d: Include %s: %w", file, n, arg, err)
			}
			if !slices.Contains(*p.files, m) {
				*p.files = append(*p.files, m)
			}
			if err := p.parseFile(m, data, active, sub, depth+1); err != nil {
				return err
			}
			*active = oactive
		}
	}
	if count == 0 {
		return configError(file, n, "Include is missing a file name")
	}
	return nil
}

// globFS expands a glob(3) pattern over fsys: wildcards in any element, matches sorted
// byte-wise, a leading "." matched only explicitly. A pattern not starting with "/" (a "~"
// pattern, which sshd does not expand) matches nothing.
func globFS(fsys host.FS, pattern string) ([]string, error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, nil
	}
	elems := strings.Split(strings.Trim(pattern, "/"), "/")
	paths := []string{"/"}
	for i, elem := range elems {
		last := i == len(elems)-1
		var next []string
		for _, dir := range paths {
			if elem == "" {
				next = append(next, dir)
				continue
			}
			if !strings.ContainsAny(elem, "*?[") {
				full := path.Join(dir, unescapeGlob(elem))
				if last {
					if _, err := fsys.Lstat(full); err != nil {
						continue
					}
				}
				next = append(next, full)
				continue
			}
			names, err := fsys.ReadDir(dir)
			if err != nil {
				if errors.Is(err, fs.ErrPermission) {
					return nil, err
				}
				continue
			}
			for _, name := range names {
				if strings.HasPrefix(name, ".") && !strings.HasPrefix(elem, ".") {
					continue
				}
				if ok, _ := path.Match(elem, name); ok {
					next = append(next, path.Join(dir, name))
				}
			}
		}
		paths = next
	}
	slices.Sort(paths)
	if len(paths) == 1 && paths[0] == "/" {
		return nil, nil
	}
	return paths, nil
}

// globDir is the directory a pattern lists: the path before its first element with a
// wildcard ("/etc/ssh/sshd_config.d" for "/etc/ssh/sshd_config.d/*.conf").
func globDir(pattern string) string {
	if !strings.HasPrefix(pattern, "/") {
		return ""
	}
	dir := "/"
	elems := strings.Split(strings.Trim(pattern, "/"), "/")
	for _, e := range elems[:len(elems)-1] {
		if strings.ContainsAny(e, "*?[") {
			break
		}
		dir = path.Join(dir, e)
	}
	return dir
}

// unescapeGlob removes glob backslash escapes from a literal element.
func unescapeGlob(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
