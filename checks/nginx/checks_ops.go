package nginx

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
	"github.com/securecodehq/server-audit/pkg/report"
)

// userUID returns the UID of a user from /etc/passwd, -1 when absent.
func userUID(fsys host.FS, name string) int {
	data, err := host.ReadFileLimit(fsys, "/etc/passwd", 8<<20)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			if uid, err := strconv.Atoi(f[2]); err == nil {
				return uid
			}
		}
	}
	return -1
}

// workerUser: worker processes parse every request; run as root, any flaw in nginx or a
// module hands over the machine. The master needs root only to bind ports and read keys.
func workerUser(e *env) checks.Result {
	fsys := e.h.FS()
	d := e.cfg.Main.First("user")
	name, how := "nobody", "nginx's built-in default"
	if v, ok := e.s.build.ConfigureValue("--user"); ok {
		name, how = v, "the default compiled into nginx (--user)"
	}
	if d != nil {
		name, how = d.Arg(0), "the user directive ("+d.Where()+")"
	}
	configRoot := name == "root" || userUID(fsys, name) == 0
	masters, workers := e.s.procs.masters, e.s.procs.workers
	rootWorkers := 0
	for _, w := range workers {
		if w.uid == 0 {
			rootWorkers++
		}
	}
	running := len(masters) > 0
	var res checks.Result
	switch {
	case rootWorkers > 0:
		res = checks.Fail("%d of %d nginx worker process(es) run as root", rootWorkers, len(workers))
	case running && len(workers) > 0:
		res = checks.Pass("%d nginx worker process(es) run as non-root users", len(workers))
	case running && masters[0].uid > 0:
		res = checks.Pass("the nginx master runs as UID %d, not root, so its workers cannot be root", masters[0].uid)
	case configRoot:
		res = checks.Fail("workers would run as root: user %s is set by %s", name, how)
	default:
		res = checks.Pass("workers run as %s, set by %s", name, how)
	}
	res = res.Detail("configured worker user: %s (%s)", name, how)
	switch {
	case running:
		res = res.Detail("nginx is running: %d master(s), %d worker(s)", len(masters), len(workers))
	case e.s.procErr != nil:
		res = res.Detail("running processes not examined: %v", e.s.procErr)
	default:
		res = res.Detail("nginx is not running; judged from the configuration")
	}
	if len(masters) > 1 {
		res = res.Detail("%d nginx master processes are running; a second instance may use another configuration", len(masters))
	}
	return res.Bool("user_directive", d != nil).Bool("user_is_root", configRoot).Bool("running", running).
		Int("workers", int64(len(workers))).Int("root_workers", int64(rootWorkers))
}

// debugLogging: the debug level writes request headers (cookies, authorization) and
// bodies to the error log, and fills the disk.
func debugLogging(e *env) checks.Result {
	logs, conns := 0, 0
	var lines []string
	e.cfg.Main.Walk(func(d *Directive) {
		switch d.Name {
		case "error_log":
			for _, a := range d.Args[min(1, len(d.Args)):] {
				if a == "debug" || strings.HasPrefix(a, "debug_") {
					logs++
					lines = append(lines, fmt.Sprintf("error_log %s at debug level (%s)", d.Arg(0), d.Where()))
					break
				}
			}
		case "debug_connection":
			conns++
			lines = append(lines, fmt.Sprintf("debug_connection (%s)", d.Where()))
		}
	})
	withDebug := e.s.build.HasModule("--with-debug")
	var res checks.Result
	if logs+conns > 0 {
		res = checks.Fail("debug logging is configured (%d error_log, %d debug_connection)", logs, conns)
		if e.s.build.Known && !withDebug {
			res = res.Detail("this nginx was built without --with-debug, so it logs at the next level instead; remove the setting all the same")
		}
	} else {
		res = checks.Pass("no error_log at debug level")
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Int("debug_error_logs", int64(logs)).Int("debug_connections", int64(conns)).Bool("built_with_debug", withDebug)
}

// accessLog: without an access log, nobody can tell afterwards what a server was asked.
// Locations turning it off (favicon, health checks) are fine; a whole server is not.
func accessLog(e *env) checks.Result {
	servers := e.cfg.HTTPServers()
	if len(servers) == 0 {
		return noHTTP()
	}
	off := 0
	var lines []string
	for _, s := range servers {
		logs := lookupArray(s.Block, "access_log")
		if len(logs) == 0 {
			continue
		}
		disabled := true
		for _, l := range logs {
			if v := l.Arg(0); v != "off" && v != "/dev/null" {
				disabled = false
			}
		}
		if disabled {
			off++
			lines = append(lines, fmt.Sprintf("%s: access_log %s (%s)", s.Label(), logs[0].Arg(0), logs[0].Where()))
		}
	}
	var res checks.Result
	if off > 0 {
		res = checks.Fail("%d of %d server(s) keep no access log", off, len(servers))
	} else {
		res = checks.Pass("%d server(s) keep an access log", len(servers))
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Int("servers", int64(len(servers))).Int("servers_without_access_log", int64(off))
}

// configPermissions: whoever can write nginx's configuration (or a directory it includes
// from) controls what it serves, and as root at the next reload. Password files of
// auth_basic must not be readable by every user either. When the running master is not
// root's, files owned by its user are accepted too.
func configPermissions(e *env) checks.Result {
	fsys := e.h.FS()
	var files []string
	for _, f := range e.cfg.Files {
		if f != cmdlineFile {
			files = append(files, f)
		}
	}
	var dirs []string
	for _, f := range files {
		if d := path.Dir(path.Clean(f)); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	// An nginx run without root by some user may keep its configuration as that user:
	// its owner gains nothing by editing it.
	owner := uint32(0)
	if m := e.s.master(); m != nil && m.uid > 0 {
		owner = uint32(m.uid)
	}
	notRoot, writable := 0, 0
	var problems, notes []string
	for _, name := range append(slices.Clone(files), dirs...) {
		fi, err := fsys.Stat(name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				notes = append(notes, fmt.Sprintf("stat %s: %v", name, err))
			}
			continue
		}
		perm := fi.Perm()
		if fi.UID != 0 && fi.UID != owner {
			notRoot++
			problems = append(problems, fmt.Sprintf("%s is owned by UID %d, not root", name, fi.UID))
		}
		if perm&0o022 != 0 && !(fi.IsDir() && perm&0o1000 != 0 && fi.UID == 0) {
			writable++
			problems = append(problems, fmt.Sprintf("%s is writable by its group or by everyone (mode %04o)", name, perm))
		}
	}
	authFiles, authReadable := 0, 0
	seen := map[string]bool{}
	e.cfg.Main.Walk(func(d *Directive) {
		v := d.Arg(0)
		if d.Name != "auth_basic_user_file" || !pathValue(v) {
			return
		}
		name := fullName(e.cfg.ConfPrefix, v)
		if seen[name] {
			return
		}
		seen[name] = true
		fi, err := fsys.Stat(name)
		if err != nil {
			notes = append(notes, fmt.Sprintf("auth_basic_user_file %s: %v", name, err))
			return
		}
		authFiles++
		if fi.Perm()&0o004 != 0 {
			authReadable++
			problems = append(problems, fmt.Sprintf("password file %s is readable by every user (mode %04o)", name, fi.Perm()))
		}
	})
	var res checks.Result
	if len(problems) == 0 {
		res = checks.Pass("%d configuration file(s) and their directories are owned by root (or nginx's own user) and writable only by their owner", len(files))
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
		Int("writable_by_others", int64(writable)).Int("auth_files", int64(authFiles)).Int("auth_files_other_readable", int64(authReadable))
}

// defaultPages are the index files nginx packages install.
func defaultPages() []string { return []string{"index.html", "index.htm", "index.nginx-debian.html"} }

// defaultSite: the packaged default site answers every request for an unknown name with
// the welcome page, which confirms the software to scanners and often outlives its purpose.
func defaultSite(e *env) checks.Result {
	enabled := false
	var lines []string
	for _, f := range e.cfg.Files {
		if strings.HasSuffix(f, "/sites-enabled/default") || strings.HasSuffix(f, "/conf.d/default.conf") {
			enabled = true
			lines = append(lines, "the packaged default site is enabled: "+f)
		}
	}
	page := false
	fsys := e.h.FS()
	seen := map[string]bool{}
	for _, s := range e.cfg.HTTPServers() {
		level := s.Block
		for _, l := range s.Block.All("location") {
			if isCatchAll(l) {
				level = l
			}
		}
		root := lookupValue(level, "root", "html")
		if strings.Contains(root, "$") {
			continue
		}
		dir := fullName(e.cfg.Prefix, root)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		for _, idx := range defaultPages() {
			data, err := host.ReadFileLimit(fsys, strings.TrimSuffix(dir, "/")+"/"+idx, 64<<10)
			if err == nil && strings.Contains(strings.ToLower(string(data)), "welcome to nginx") {
				page = true
				lines = append(lines, fmt.Sprintf("%s serves nginx's welcome page %s/%s", s.Label(), strings.TrimSuffix(dir, "/"), idx))
				break
			}
		}
	}
	if len(e.cfg.HTTPServers()) == 0 && !enabled {
		return checks.Skip(report.ReasonNotApplicable, "the configuration has no http server block")
	}
	var res checks.Result
	switch {
	case enabled || page:
		res = checks.Fail("the packaged default site or welcome page is still served")
	default:
		res = checks.Pass("neither the packaged default site nor the welcome page is served")
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Bool("default_site", enabled).Bool("default_page", page)
}
