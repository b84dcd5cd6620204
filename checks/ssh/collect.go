package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Source says where the effective configuration came from.
type Source string

// Configuration sources (the config_source fact).
const (
	// SourceSSHDT: `sshd -T`, sshd's own computation.
	SourceSSHDT Source = "sshd-t"
	// SourceParser: the Go parser, on an offline root or when `sshd -T` cannot run.
	SourceParser Source = "parser"
)

// Config is sshd's effective configuration in `sshd -T` form.
type Config struct {
	Source Source
	// Why says why the parser was used (empty for sshd -T).
	Why string
	// Probe is the connection Match blocks were evaluated for.
	Probe  Probe
	values map[string][]string
}

// Get returns the first value of key ("" when absent).
func (c *Config) Get(key string) string {
	if v := c.values[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Has reports whether key is present.
func (c *Config) Has(key string) bool { return len(c.values[key]) > 0 }

// All returns every value of a repeated key (port, hostkey, allowusers …).
func (c *Config) All(key string) []string { return c.values[key] }

// List returns a comma-separated value as a list.
func (c *Config) List(key string) []string {
	v := c.Get(key)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Int returns an integer value, ok=false when absent or malformed.
func (c *Config) Int(key string) (int64, bool) {
	n, err := strconv.ParseInt(c.Get(key), 10, 64)
	return n, err == nil
}

// describe is the detail line every check adds about the configuration's origin.
func (c *Config) describe() string {
	probe := fmt.Sprintf("Match as user %s from %s, port %d", c.Probe.User, c.Probe.Addr, c.Probe.LPort)
	if c.Source == SourceSSHDT {
		return "source: sshd -T (" + probe + ")"
	}
	return "source: " + mainConfig + " parsed (" + c.Why + "; " + probe + ")"
}

// state is what the family's checks share, computed once per host.
type state struct {
	// installed is false when sshd is not installed.
	installed bool
	// cfg is the effective configuration; nil with cfgErr when it could not be obtained.
	cfg    *Config
	cfgErr error
	// files are the configuration files read (the main file first); dirs the directories
	// Include patterns read from.
	files, dirs []string
	// version is the OpenSSH release; build what its binary shows.
	version  Version
	build    buildInfo
	buildErr error
	// notes are remarks every configuration check repeats (sshd -T rejecting the file).
	notes []string
	// keys are the host public keys under /etc/ssh.
	keys []hostKeyFile
}

// hostKeyFile is one /etc/ssh/ssh_host_*_key.pub file.
type hostKeyFile struct {
	pub, private string
	key          PublicKey
	err          error
}

// configResult returns the configuration, or the result every configuration check reports
// when there is none.
func (s *state) configResult() (*Config, *checks.Result) {
	if !s.installed {
		res := checks.Skip(report.ReasonNotInstalled, "sshd is not installed")
		return nil, &res
	}
	if s.cfg == nil {
		res := checks.FromError("sshd configuration", s.cfgErr)
		for _, n := range s.notes {
			res = res.Detail("%s", n)
		}
		return nil, &res
	}
	return s.cfg, nil
}

// collect computes the family's state: `sshd -T` on a live host (with the Go parser as the
// fallback and for the list of files), the OpenSSH version, the binary's build markers and
// the host public keys.
func collect(ctx context.Context, h host.Host) (*state, error) {
	fsys := h.FS()
	s := &state{installed: true}
	s.build, s.buildErr = readBuild(ctx, fsys)
	_, cfgErr := fsys.Stat(mainConfig)
	cfgMissing := errors.Is(cfgErr, fs.ErrNotExist)

	var sshdT host.Output
	var sshdTErr error
	versionKnown := false
	if h.Live() {
		var vOut host.Output
		var vErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			vOut, vErr = h.Run(ctx, "sshd", "-V")
		}()
		sshdT, sshdTErr = h.Run(ctx, "sshd", "-T", "-C", defaultProbe.Spec())
		wg.Wait()
		if errors.Is(sshdTErr, host.ErrCommandNotFound) {
			s.installed = false
			return s, nil
		}
		if vErr == nil {
			if v, ok := parseBanner(append(vOut.Stderr, vOut.Stdout...)); ok {
				v.Source = "sshd -V"
				s.version, versionKnown = v, true
			}
		}
		if !versionKnown {
			// sshd and ssh come from the same source package.
			if out, err := h.Run(ctx, "ssh", "-V"); err == nil {
				if v, ok := parseBanner(append(out.Stderr, out.Stdout...)); ok {
					v.Source = "ssh -V"
					s.version, versionKnown = v, true
				}
			}
		}
	} else if cfgMissing && errors.Is(s.buildErr, fs.ErrNotExist) {
		s.installed = false
		return s, nil
	}
	if !versionKnown {
		s.version = detectVersion(fsys, s.build, s.buildErr)
	}
	alg := algorithmsFor(s.version, s.build)

	cfg, why := fromSSHDT(ctx, h, sshdT, sshdTErr)
	if why != "" && looksRejected(sshdT, sshdTErr) {
		s.notes = append(s.notes, "sshd -T rejects the configuration: "+firstLineOf(sshdT.Stderr))
	}
	probe := defaultProbe
	res, err := parseConfig(fsys, parseOptions{probe: probe, version: s.version, alg: alg})
	if err == nil && !slices.Contains(res.values["port"], strconv.Itoa(probe.LPort)) {
		// Evaluate "Match LocalPort" for the port sshd actually listens on.
		if port, perr := strconv.Atoi(res.values["port"][0]); perr == nil {
			probe.LPort = port
			res, err = parseConfig(fsys, parseOptions{probe: probe, version: s.version, alg: alg})
		}
	}
	if res != nil {
		s.files, s.dirs = res.files, res.dirs
		s.notes = append(s.notes, res.warnings...)
	}
	switch {
	case cfg != nil:
		s.cfg = cfg
	case err != nil:
		s.cfgErr = err
	default:
		s.cfg = &Config{Source: SourceParser, Why: why, Probe: probe, values: res.values}
	}
	s.keys = readHostKeys(fsys)
	return s, nil
}

// fromSSHDT turns the output of `sshd -T` into the configuration, re-running it for the
// first configured port when sshd does not listen on 22. It returns nil and the reason when
// the output cannot be used.
func fromSSHDT(ctx context.Context, h host.Host, out host.Output, err error) (*Config, string) {
	switch {
	case !h.Live():
		return nil, "offline root"
	case errors.Is(err, host.ErrTimeout):
		return nil, "sshd -T timed out"
	case err != nil:
		return nil, "sshd -T could not run: " + err.Error()
	case out.ExitCode != 0:
		return nil, fmt.Sprintf("sshd -T failed with exit status %d: %s", out.ExitCode, firstLineOf(out.Stderr))
	}
	values, perr := parseSSHDT(out.Stdout)
	if perr != nil {
		return nil, "sshd -T output not understood: " + perr.Error()
	}
	probe := defaultProbe
	if ports := values["port"]; len(ports) > 0 && !slices.Contains(ports, strconv.Itoa(probe.LPort)) {
		if port, cerr := strconv.Atoi(ports[0]); cerr == nil {
			other := probe
			other.LPort = port
			if again, rerr := h.Run(ctx, "sshd", "-T", "-C", other.Spec()); rerr == nil && again.ExitCode == 0 {
				if v, verr := parseSSHDT(again.Stdout); verr == nil {
					values, probe = v, other
				}
			}
		}
	}
	return &Config{Source: SourceSSHDT, Probe: probe, values: values}, ""
}

// looksRejected reports whether a failed `sshd -T` complained about the configuration
// itself rather than its environment (privilege separation directory, host keys, root).
func looksRejected(out host.Output, err error) bool {
	if err != nil || out.ExitCode == 0 {
		return false
	}
	msg := string(out.Stderr)
	for _, marker := range []string{"Bad configuration option", "bad configuration options", " line ", "Bad Match condition", "Unsupported option", "unsupported option"} {
		if strings.Contains(msg, marker) {
			return true
		}
	}
	return false
}

func firstLineOf(b []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	const max = 200
	if len(line) > max {
		line = line[:max]
	}
	if len(line) == 0 {
		return "no message"
	}
	return string(line)
}

// detectVersion finds the OpenSSH release without running anything: the package database,
// then the release string in the sshd binary, then defaultVersion.
func detectVersion(fsys host.FS, build buildInfo, buildErr error) Version {
	if v, err := packageVersion(fsys); err == nil {
		return v
	}
	if buildErr == nil && build.hasVersion {
		return build.version
	}
	return defaultVersion
}

// readHostKeys parses /etc/ssh/ssh_host_*_key.pub. Only public key files are read.
func readHostKeys(fsys host.FS) []hostKeyFile {
	pubs, err := host.Glob(fsys, "/etc/ssh/ssh_host_*_key.pub")
	if err != nil {
		return nil
	}
	var out []hostKeyFile
	for _, pub := range pubs {
		f := hostKeyFile{pub: pub, private: strings.TrimSuffix(pub, ".pub")}
		data, err := host.ReadFileLimit(fsys, pub, maxPublicKeyLine+1024)
		if err == nil {
			f.key, err = ParsePublicKey(data)
		}
		f.err = err
		out = append(out, f)
	}
	return out
}
