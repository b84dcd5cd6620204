package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/securecodehq/server-audit/checks/host"
)

// state is what the family's checks share, computed once per host.
type state struct {
	// installed is false when neither an nginx binary nor a configuration exists.
	installed bool
	// build is what the binary says about itself.
	build Build
	// procs are the running nginx processes; procErr why they could not be listed.
	procs   processes
	procErr error
	// opts are the master's -c, -p and -g options.
	opts cmdOptions
	// cfg is the effective configuration; nil with cfgErr when it could not be obtained.
	cfg    *Config
	cfgErr error
	// notes are remarks every check repeats (why nginx -T was not used).
	notes []string
}

// master returns the running master process, nil when nginx is not running.
func (s *state) master() *process {
	if len(s.procs.masters) == 0 {
		return nil
	}
	return &s.procs.masters[0]
}

// confCandidates are the usual main configuration files, for when the binary cannot say.
func confCandidates() []string {
	return []string{"/etc/nginx/nginx.conf", "/usr/local/nginx/conf/nginx.conf", "/usr/local/etc/nginx/nginx.conf",
		"/usr/local/openresty/nginx/conf/nginx.conf", "/opt/nginx/conf/nginx.conf"}
}

// paths returns the main configuration file and the server prefix the way nginx computes
// them: -p, else the configure --prefix (default /usr/local/nginx/); -c, else
// --conf-path (default conf/nginx.conf), relative names taken from the prefix.
func (s *state) paths(fsys host.FS) (confPath, prefix string) {
	prefix = "/usr/local/nginx/"
	if v, ok := s.build.ConfigureValue("--prefix"); ok {
		prefix = v
	}
	if s.opts.prefix != "" {
		prefix = s.opts.prefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	conf := "conf/nginx.conf"
	if v, ok := s.build.ConfigureValue("--conf-path"); ok {
		conf = v
	}
	if s.opts.conf != "" {
		conf = s.opts.conf
	} else if !s.build.Known {
		conf = confCandidates()[0]
		for _, c := range confCandidates() {
			if _, err := fsys.Stat(c); err == nil {
				conf = c
				break
			}
		}
		if s.opts.prefix == "" {
			prefix = dirPrefix(conf)
		}
	}
	return fullName(prefix, conf), prefix
}

// dumpArgv is the `nginx -T` command line, with the master's -p and -c.
func dumpArgv(bin string, o cmdOptions) []string {
	argv := []string{bin, "-T"}
	if o.prefix != "" {
		argv = append(argv, "-p", o.prefix)
	}
	if o.conf != "" {
		argv = append(argv, "-c", o.conf)
	}
	return argv
}

// collect computes the family's state. On a live host it lists the nginx processes, runs
// `nginx -V` (the version, TLS library and configure arguments) and, when nginx is
// running, `nginx -T` (the configuration files nginx reads, printed by nginx itself). It
// does not run nginx -T when nginx is not running, because nginx -T briefly binds every
// configured port and creates the pid file, temporary directories and log files it names:
// changes a stopped server's host should not see from an audit. In that case, on offline
// roots, and when nginx -T fails, the Go parser reads the files (config_source parser).
// The binary run is the running master's executable when the master belongs to root, else
// "nginx" from PATH: any user can start a process that calls itself an nginx master.
// nginx -T runs only when the master is root's: a configuration chosen by another user
// could load modules into a process with the agent's privileges, so the parser reads that
// configuration instead.
func collect(ctx context.Context, h host.Host) (*state, error) {
	fsys := h.FS()
	s := &state{}
	if proc, err := h.Proc(); err == nil {
		s.procs, s.procErr = scanProcesses(proc)
	} else {
		s.procErr = err
	}
	master := s.master()
	bin := "nginx"
	// trusted: the master belongs to root, so its binary and options are root's choice.
	trusted := master != nil && master.uid == 0
	if master != nil {
		s.opts = parseMasterTitle(master.title)
		if trusted && master.exe != "" {
			bin = master.exe
		}
	}
	// A master of another user may name any configuration, and nginx -T running with the
	// agent's privileges would load the modules it lists: nginx -T runs for root's nginx
	// only, and another user's options only steer the parser.
	runDump := h.Live() && trusted

	binFound := false
	var dump host.Output
	var dumpErr error
	if h.Live() {
		var wg sync.WaitGroup
		if runDump {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dump, dumpErr = h.Run(ctx, dumpArgv(bin, s.opts)...)
			}()
		}
		out, err := h.Run(ctx, bin, "-V")
		wg.Wait()
		if err == nil {
			binFound = true
			if b, ok := parseBuild(append(out.Stderr, out.Stdout...)); ok {
				b.Source = "nginx -V"
				s.build = b
			}
		} else if !errors.Is(err, host.ErrCommandNotFound) {
			binFound = true
			s.notes = append(s.notes, "nginx -V: "+err.Error())
		}
	}
	if !s.build.Known {
		for _, p := range binaryPaths() {
			b, err := scanBinary(fsys, p)
			if err == nil {
				s.build, binFound = b, true
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				binFound = true
			}
		}
	}
	confPath, prefix := s.paths(fsys)
	_, confErr := fsys.Stat(confPath)
	if !binFound && master == nil && errors.Is(confErr, fs.ErrNotExist) {
		return s, nil
	}
	s.installed = true

	why := ""
	switch {
	case !h.Live():
		why = "offline root"
	case master == nil:
		why = "nginx is not running, and nginx -T would bind its ports and create its pid file"
	case !trusted:
		why = fmt.Sprintf("the running nginx master belongs to UID %d, not root, and nginx -T is only run for root's nginx", master.uid)
	case dumpErr != nil:
		why = "nginx -T could not run: " + dumpErr.Error()
	case dump.ExitCode != 0:
		why = fmt.Sprintf("nginx -T failed with exit status %d: %s", dump.ExitCode, nginxError(dump.Stderr))
	case dump.Truncated:
		why = "the output of nginx -T exceeds the size limit"
	default:
		res, err := parseDump(dump.Stdout, s.opts.globals)
		if err == nil {
			s.cfg = newConfig(res, SourceNginxT, "", res.files[0], prefix)
			return s, nil
		}
		why = "the output of nginx -T was not understood: " + err.Error()
	}
	res, err := parseConfig(fsSource{fsys}, confPath, s.opts.globals)
	if err != nil {
		s.cfgErr = err
		return s, nil
	}
	s.cfg = newConfig(res, SourceParser, why, confPath, prefix)
	return s, nil
}

// nginxError picks nginx's own complaint ("[emerg] …") from its standard error.
func nginxError(stderr []byte) string {
	lines := strings.Split(string(bytes.TrimSpace(stderr)), "\n")
	for _, l := range lines {
		if strings.Contains(l, "[emerg]") || strings.Contains(l, "[alert]") {
			return clip(l)
		}
	}
	if len(lines) > 0 && lines[0] != "" {
		return clip(lines[0])
	}
	return "no message"
}

func clip(s string) string {
	const max = 240
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
