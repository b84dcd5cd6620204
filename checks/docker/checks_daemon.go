package docker

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// This file holds the checks of the daemon: its socket, who may use it, how it listens and
// the defaults it gives containers.

// apiSource describes where a daemon-level answer came from, for the details.
func (s *state) apiSource(what string) string {
	if s.api != nil {
		return fmt.Sprintf("the Engine API (%s) at %s, API %s", what, s.api.socket, s.api.apiVersion)
	}
	return "the configuration files (offline root)"
}

// confNote adds the conflicts of the configuration, or why it could not be read, to r.
func (s *state) confNote(r checks.Result) checks.Result {
	if s.confErr != nil {
		return r.Detail("daemon configuration not read: %v", s.confErr)
	}
	for _, c := range s.conf.conflicts {
		r = r.Detail("%s", c)
	}
	if s.daemon == nil && s.procErr != nil && s.live {
		r = r.Detail("dockerd's command line was not read: %v", s.procErr)
	}
	return r
}

// needConf returns the result of a check that needs the configuration files when they
// could not be read, or nil.
func (s *state) needConf() *checks.Result {
	if s.confErr == nil {
		return nil
	}
	r := checks.FromError("read the daemon configuration", s.confErr)
	return &r
}

// withVersions adds the engine, containerd and runc versions the API reported.
func (s *state) withVersions(r checks.Result) checks.Result {
	if s.api == nil {
		return r
	}
	for _, v := range []struct{ key, val string }{
		{"engine_version", s.api.engineVersion}, {"containerd_version", s.api.containerdVersion}, {"runc_version", s.api.runcVersion},
	} {
		if catalog.VersionPattern.MatchString(v.val) {
			r = r.Version(v.key, v.val)
		}
	}
	return r.Detail("Docker Engine %s, containerd %s, runc %s", orUnknown(s.api.engineVersion),
		orUnknown(s.api.containerdVersion), orUnknown(s.api.runcVersion))
}

// orUnknown returns s, or "unknown" when it is empty.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// orNotSet returns s, or "not set" when it is empty.
func orNotSet(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}

// runSocketPermissions is docker.socket-permissions: whoever can write to the socket
// controls the daemon. System sockets should be root:root or root:docker with at most
// 0660; a rootless socket belongs to its user.
func runSocketPermissions(_ context.Context, _ host.Host, s *state) checks.Result {
	if len(s.sockets) == 0 {
		return checks.Skip(report.ReasonNotApplicable, "no Docker socket exists (Docker is installed: %s)", s.evidence).Int("sockets", 0)
	}
	var problems []string
	sev := catalog.Severity("")
	raise := func(to catalog.Severity) {
		if sev == "" || to.Rank() > sev.Rank() {
			sev = to
		}
	}
	otherWritable, ownerOK, groupWritable := false, true, false
	var details []string
	for _, sock := range s.sockets {
		fi := sock.info
		perm := fi.Perm()
		group := fmt.Sprintf("gid %d", fi.GID)
		switch {
		case fi.GID == 0:
			group += " (root)"
		case s.group.exists && fi.GID == s.group.gid:
			group += " (docker)"
		}
		details = append(details, fmt.Sprintf("%s: mode %04o, uid %d, %s (%s)", sock.path, perm, fi.UID, group, sock.source))
		wantUID := uint32(0)
		if sock.rootless() {
			wantUID = uint32(sock.rootlessUID)
		}
		if perm&0o002 != 0 {
			otherWritable = true
			raise(catalog.SeverityCritical)
			problems = append(problems, sock.path+" is writable by every user")
		}
		if fi.UID != wantUID {
			ownerOK = false
			raise(catalog.SeverityHigh)
			problems = append(problems, fmt.Sprintf("%s is owned by uid %d, not %d", sock.path, fi.UID, wantUID))
		}
		dockerGroup := fi.GID == 0 || (s.group.exists && fi.GID == s.group.gid)
		if perm&0o020 != 0 && !dockerGroup && !sock.rootless() {
			groupWritable = true
			raise(catalog.SeverityHigh)
			problems = append(problems, fmt.Sprintf("%s is writable by group %d, which is neither root nor docker", sock.path, fi.GID))
		}
		if perm&^0o660 != 0 && perm&0o002 == 0 {
			raise(catalog.SeverityLow)
			problems = append(problems, fmt.Sprintf("%s has mode %04o, wider than 0660", sock.path, perm))
		}
	}
	first := s.sockets[0].info
	var r checks.Result
	if len(problems) == 0 {
		r = checks.Pass("the Docker socket is writable by its owner and group only")
	} else {
		r = checks.Fail("%s", strings.Join(problems, "; ")).WithSeverity(sev)
	}
	r = r.Int("sockets", int64(len(s.sockets))).Int("mode", int64(first.Perm())).
		Bool("other_writable", otherWritable).Bool("owner_ok", ownerOK).Bool("foreign_group_writable", groupWritable)
	for _, d := range details {
		r = r.Detail("%s", d)
	}
	return r
}

// tcpScope is how widely a tcp:// host listens.
type tcpScope int

const (
	scopeNone tcpScope = iota
	scopeLoopback
	scopeSpecific
	scopeAll
)

// String is the fact value of the scope.
func (t tcpScope) String() string {
	return [...]string{"none", "loopback", "specific", "all"}[t]
}

// hostScope classifies a daemon host as dockerd parses it: "tcp://addr:port", or
// "addr:port" without a scheme; an empty address is localhost. ok is false for unix://
// and fd:// hosts.
func hostScope(h string) (tcpScope, bool) {
	h = strings.TrimSpace(h)
	proto, addr, hasScheme := strings.Cut(h, "://")
	if !hasScheme {
		proto, addr = "tcp", h
	}
	if proto != "tcp" {
		return scopeNone, false
	}
	addr, _, _ = strings.Cut(addr, "/")
	hostPart := addr
	if hp, _, err := net.SplitHostPort(addr); err == nil {
		hostPart = hp
	} else if strings.HasPrefix(addr, "[") {
		hostPart = strings.Trim(addr, "[]")
	}
	switch hostPart {
	case "", "localhost":
		return scopeLoopback, true
	case "0.0.0.0", "::", "*":
		return scopeAll, true
	}
	ip, err := netip.ParseAddr(hostPart)
	switch {
	case err != nil:
		return scopeSpecific, true // a host name
	case ip.IsUnspecified():
		return scopeAll, true
	case ip.IsLoopback():
		return scopeLoopback, true
	}
	return scopeSpecific, true
}

// runRemoteAPITLS is docker.remote-api-tls: a tcp:// host without TLS client verification
// gives whoever reaches it root on the host.
func runRemoteAPITLS(_ context.Context, _ host.Host, s *state) checks.Result {
	c := s.conf
	verify := c.tlsVerify != nil && *c.tlsVerify
	var tcp []string
	widest := scopeNone
	for _, h := range c.hosts {
		sc, ok := hostScope(h)
		if !ok {
			continue
		}
		tcp = append(tcp, h)
		widest = max(widest, sc)
	}
	var r checks.Result
	switch {
	case len(tcp) == 0:
		r = checks.Pass("the daemon listens on no TCP address")
	case verify:
		r = checks.Pass("the daemon listens on TCP (%s) with TLS client verification", strings.Join(tcp, ", "))
	default:
		r = checks.Fail("the daemon API listens on %s without TLS client verification", strings.Join(tcp, ", "))
		switch widest {
		case scopeLoopback:
			r = r.WithSeverity(catalog.SeverityMedium).Detail("loopback only: every local user and process (and any server-side request forgery) gets root")
		case scopeSpecific:
			r = r.WithSeverity(catalog.SeverityHigh)
		}
		if c.tls != nil && *c.tls {
			r = r.Detail("tls is on but tlsverify is not: the connection is encrypted, yet any client is accepted")
		}
	}
	r = r.Int("tcp_hosts", int64(len(tcp))).Bool("tls_verify", verify).Enum("scope", widest.String())
	if len(c.hosts) > 0 {
		r = r.Detail("hosts from %s: %s", c.from("hosts"), strings.Join(c.hosts, ", "))
	} else {
		r = r.Detail("no hosts set in %s or on the command line: the default Unix socket only", c.file)
	}
	if c.tlsVerify != nil {
		r = r.Detail("%s", c.setting("tlsverify", *c.tlsVerify))
	}
	if s.envHost != "" {
		r = r.Detail("DOCKER_HOST is %s, which the agent does not dial: checks never open network connections", s.envHost)
	}
	if s.api != nil {
		for _, w := range s.api.info.warnings {
			if strings.Contains(w, "API is accessible on") {
				r = r.Detail("the daemon warns: %s", strings.Join(strings.Fields(w), " "))
			}
		}
	}
	return s.confNote(r).Detail("see also ports.docker-api, which judges what actually listens")
}

// runGroupMembers is docker.group-members: every member of the group that owns the socket
// can start a privileged container and so is root.
func runGroupMembers(_ context.Context, _ host.Host, s *state) checks.Result {
	if s.groupErr != nil {
		return checks.FromError("read the docker group", s.groupErr)
	}
	g := s.group
	if !g.exists {
		return checks.Pass("there is no docker group").Int("members", 0).Bool("group_exists", false)
	}
	n := len(g.members)
	var r checks.Result
	if n == 0 {
		r = checks.Pass("the docker group has no members")
	} else {
		r = checks.Fail("%d user(s) in the docker group can control the daemon and are root-equivalent", n).
			Detail("members: %s", strings.Join(g.members, ", "))
	}
	for _, sock := range s.sockets {
		if !sock.rootless() && sock.info.GID != g.gid {
			r = r.Detail("%s belongs to gid %d, not the docker group (gid %d): membership does not open it", sock.path, sock.info.GID, g.gid)
		}
	}
	return r.Int("members", int64(n)).Bool("group_exists", true)
}

// runUserns is docker.userns: user-namespace remapping or a rootless daemon, so that root
// in a container is not root on the host.
func runUserns(_ context.Context, _ host.Host, s *state) checks.Result {
	var userns, rootless bool
	var stale string
	if s.api != nil {
		userns, rootless = s.api.info.securityOption("userns"), s.api.info.securityOption("rootless")
		if s.confErr == nil && s.conf.usernsRemap != nil && *s.conf.usernsRemap != "" && !userns {
			stale = fmt.Sprintf("userns-remap is %q in %s, but the running daemon does not remap (restart it to apply)", *s.conf.usernsRemap, s.conf.from("userns-remap"))
		}
	} else {
		userns = s.conf.usernsRemap != nil && *s.conf.usernsRemap != ""
		rootless = s.rootlessUID() >= 0 || (s.conf.rootless != nil && *s.conf.rootless)
	}
	var r checks.Result
	switch {
	case rootless:
		r = checks.Pass("the daemon runs rootless")
	case userns:
		r = checks.Pass("the daemon remaps container users to an unprivileged range (userns-remap)")
	default:
		r = checks.Fail("the daemon runs as root without user-namespace remapping: root in a container is root on the host")
	}
	r = r.Bool("rootless", rootless).Bool("userns_remap", userns).Detail("from %s", s.apiSource("/info SecurityOptions"))
	if stale != "" {
		r = r.Detail("%s", stale)
	}
	return s.confNote(s.withVersions(r))
}

// apiAtLeast reports whether API version v is at least want ("1.43").
func apiAtLeast(v, want string) bool {
	parse := func(s string) (int, int) {
		a, b, _ := strings.Cut(s, ".")
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x, y
	}
	va, vb := parse(v)
	wa, wb := parse(want)
	return va > wa || (va == wa && vb >= wb)
}

// runNoNewPrivileges is docker.no-new-privileges: the daemon default that stops setuid
// binaries in containers from gaining privileges. The API reports it from API 1.43
// (Engine 24); older daemons are judged by their configuration.
func runNoNewPrivileges(_ context.Context, _ host.Host, s *state) checks.Result {
	var enabled bool
	source := "api"
	var why string
	if s.api != nil && apiAtLeast(s.api.apiVersion, "1.43") {
		enabled = s.api.info.securityOption("no-new-privileges")
		why = "from " + s.apiSource("/info SecurityOptions")
		if s.confErr == nil && s.conf.noNewPrivileges != nil && *s.conf.noNewPrivileges != enabled {
			why += fmt.Sprintf("; configured as %s, which the running daemon does not apply (restart it)", s.conf.setting("no-new-privileges", *s.conf.noNewPrivileges))
		}
	} else {
		if r := s.needConf(); r != nil {
			return *r
		}
		source = "config"
		enabled = s.conf.noNewPrivileges != nil && *s.conf.noNewPrivileges
		why = s.conf.setting("no-new-privileges", enabled)
		if s.api != nil {
			why += fmt.Sprintf("; the daemon's API %s predates the SecurityOptions entry that reports it", s.api.apiVersion)
		}
	}
	var r checks.Result
	if enabled {
		r = checks.Pass("containers start with no-new-privileges by default")
	} else {
		r = checks.Fail("containers may gain privileges through setuid binaries: no-new-privileges is not the daemon default")
	}
	return s.confNote(r.Bool("enabled", enabled).Enum("source", source).Detail("%s", why))
}

// runICC is docker.icc: containers on the default bridge talk to each other freely unless
// inter-container communication is off. The bridge network's own option is what counts.
func runICC(_ context.Context, _ host.Host, s *state) checks.Result {
	var icc, bridge bool
	var why string
	if s.api != nil {
		if s.api.bridgeErr != nil {
			return checks.FromError("inspect the default bridge network", s.api.bridgeErr)
		}
		if s.api.bridge == nil {
			return s.confNote(checks.Pass("the daemon has no default bridge network").Bool("icc", false).Bool("default_bridge", false))
		}
		bridge = true
		icc = !s.api.bridge.iccSet || s.api.bridge.icc
		why = "from the bridge network's com.docker.network.bridge.enable_icc option"
		if !s.api.bridge.iccSet {
			why = "the bridge network has no com.docker.network.bridge.enable_icc option (enabled by default)"
		}
		if s.confErr == nil && s.conf.icc != nil && *s.conf.icc != icc {
			why += fmt.Sprintf("; configured as %s, which the running daemon does not apply (restart it)", s.conf.setting("icc", s.conf.iccOn()))
		}
	} else {
		bridge, icc = true, s.conf.iccOn()
		why = s.conf.setting("icc", icc)
	}
	var r checks.Result
	if icc {
		r = checks.Fail("containers on the default bridge network can reach each other on every port (icc is on)")
	} else {
		r = checks.Pass("inter-container communication on the default bridge network is off")
	}
	return s.confNote(r.Bool("icc", icc).Bool("default_bridge", bridge).Detail("%s", why))
}

// builtinInsecure is the registry range dockerd always treats as insecure.
func builtinInsecure(cidr string) bool {
	return cidr == "127.0.0.0/8" || cidr == "::1/128"
}

// runInsecureRegistries is docker.insecure-registries: images pulled over plain HTTP or
// unverified TLS can be swapped on the way. Loopback, which dockerd always allows, is not
// counted.
func runInsecureRegistries(_ context.Context, _ host.Host, s *state) checks.Result {
	var list []string
	var why string
	if s.api != nil {
		for _, c := range s.api.info.insecureCIDRs {
			if !builtinInsecure(c) {
				list = append(list, c)
			}
		}
		list = append(list, s.api.info.insecureIndexes...)
		why = "from " + s.apiSource("/info RegistryConfig")
	} else {
		for _, c := range s.conf.insecureRegistries {
			if !builtinInsecure(c) {
				list = append(list, c)
			}
		}
		why = s.conf.setting("insecure-registries", strings.Join(s.conf.insecureRegistries, ","))
	}
	var r checks.Result
	if len(list) == 0 {
		r = checks.Pass("every registry is reached over verified TLS (apart from loopback)")
	} else {
		what := "registry is"
		if len(list) > 1 {
			what = "registries are"
		}
		r = checks.Fail("%d %s trusted without verified TLS", len(list), what).Detail("insecure: %s", strings.Join(list, ", "))
	}
	return s.confNote(r.Int("insecure", int64(len(list))).Detail("%s", why))
}

// runIptables is docker.iptables: with iptables management off, published ports and
// container traffic depend entirely on hand-written rules.
func runIptables(_ context.Context, _ host.Host, s *state) checks.Result {
	on := s.conf.iptablesOn()
	var r checks.Result
	if on {
		r = checks.Pass("the daemon manages iptables rules for its networks")
	} else {
		r = checks.Fail("iptables management is off: container networking and published ports depend on hand-written rules")
	}
	return s.confNote(r.Bool("iptables", on).Detail("%s", s.conf.setting("iptables", on)))
}

// runLogRotation is docker.log-rotation: the json-file driver keeps every line forever
// unless max-size is set; the local driver rotates by default.
func runLogRotation(_ context.Context, _ host.Host, s *state) checks.Result {
	driver := "json-file"
	var why string
	if s.api != nil {
		driver, why = s.api.info.loggingDriver, "log driver from "+s.apiSource("/info LoggingDriver")
	} else {
		if s.conf.logDriver != nil && *s.conf.logDriver != "" {
			driver = *s.conf.logDriver
		}
		why = s.conf.setting("log-driver", driver)
	}
	var r checks.Result
	switch driver {
	case "json-file":
		if res := s.needConf(); res != nil {
			return *res
		}
		size := s.conf.logOpts["max-size"]
		if size == "" {
			r = checks.Fail("container logs (json-file driver) grow without limit: no max-size log option")
		} else {
			r = checks.Pass("container logs rotate at %s (json-file, max-size)", size).
				Detail("log-opts from %s: max-size %s, max-file %s", s.conf.from("log-opts"), size, orNotSet(s.conf.logOpts["max-file"]))
		}
		r = r.Bool("max_size_set", size != "")
	case "local":
		r = checks.Pass("the local log driver rotates container logs (20 MB × 5 files unless max-size says otherwise)")
	case "none":
		r = checks.Pass("containers keep no logs (log driver none)")
	default:
		r = checks.Pass("container logs go to the %s driver, which does not fill the Docker data directory", driver)
	}
	fact := driver
	if !slices.Contains(knownDrivers(), fact) {
		fact = "other"
	}
	return s.confNote(r.Enum("driver", fact).Detail("%s", why))
}

// knownDrivers are the fact values of log drivers: Docker's built-in ones.
func knownDrivers() []string {
	return []string{"json-file", "local", "journald", "syslog", "none", "fluentd", "gelf", "awslogs",
		"splunk", "gcplogs", "logentries", "etwlogs"}
}
