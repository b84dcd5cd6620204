// Package firewall holds the host firewall checks. It reads every backend (nftables,
// iptables and ip6tables with both the nf_tables and legacy backends, ufw, firewalld) and
// judges them together.
//
// The live ruleset comes from `nft -j list ruleset` and the save outputs of both iptables
// backends; tables that iptables-nft-save shows are read from its output (which decodes the
// xt matches nft cannot) and skipped in nft's, so nothing counts twice. The configuration of
// the managers (ufw, firewalld, the nftables and netfilter-persistent services) is read from
// files, so that persistence and boot-time defaults are judged on offline roots too.
//
// Every ruleset is read into one model (tables, chains, rules of conditions and a verdict)
// and judged by following a modelled packet: the first packet of a new connection from an
// arbitrary remote address, to a given port (State.Inbound) or to a port no rule names (the
// effective default of firewall.default-inbound, firewall.ipv6-filtered,
// firewall.forward-policy and firewall.broad-accept). Conditions the model cannot decide
// (interface names other than lo, marks, xt matches nft cannot show) make a verdict
// uncertain, never wrong; source-address conditions restrict.
//
// Facts are states, policies, counts and manager names only: never addresses, interface
// names, chain names or rule comments.
package firewall

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// State is what the host firewall does, combined over every backend.
type State struct {
	live bool
	// liveErr is why the live ruleset is unknown (offline root, missing tools, no
	// permission, unreadable output); nil when ruleset is set.
	liveErr error
	ruleset *liveRuleset

	// Derived from the live ruleset: the effective defaults of new inbound and forwarded
	// traffic per address family (index 0 IPv4, 1 IPv6).
	inputDefault, forwardDefault [2]defaultVerdict

	// firewalldRunning: firewalld's tables are loaded or firewall-cmd says it runs.
	firewalldRunning bool

	ufw       ufwConfig
	firewalld firewalldConfig
	units     unitState
	unitsErr  error
	nftConf   nftConfFile
	// persisted are the iptables-restore files of netfilter-persistent (Debian) and
	// iptables-services (Red Hat).
	persisted []rulesFile
}

// Collector reads the firewall state once per host and shares it among the checks of this
// family and the ports family.
type Collector = checks.Memo[*State]

// NewCollector returns a Collector.
func NewCollector() *Collector {
	return checks.NewMemo(func(ctx context.Context, h host.Host) (*State, error) { return collect(ctx, h), nil })
}

// collect reads the configuration files and, on a live host, the running ruleset. It
// never fails as a whole: each part keeps its own error, so that a check needing only the
// configuration still runs when the ruleset cannot be read.
func collect(ctx context.Context, h host.Host) *State {
	s := &State{live: h.Live()}
	fsys := h.FS()
	s.ufw = readUFW(fsys)
	s.firewalld = readFirewalld(fsys)
	s.units, s.unitsErr = readUnits(fsys)
	s.nftConf = readNftConf(fsys)
	for _, f := range []struct {
		path string
		v6   bool
	}{
		{"/etc/iptables/rules.v4", false}, {"/etc/iptables/rules.v6", true},
		{"/etc/sysconfig/iptables", false}, {"/etc/sysconfig/ip6tables", true},
	} {
		s.persisted = append(s.persisted, readRulesFile(fsys, f.path, f.v6))
	}
	if !s.live {
		s.liveErr = fmt.Errorf("read the live firewall ruleset: %w", host.ErrNotLive)
		return s
	}
	s.ruleset, s.liveErr = readLive(ctx, h)
	if s.liveErr != nil {
		s.ruleset = nil
		return s
	}
	for i, v6 := range []bool{false, true} {
		s.inputDefault[i] = familyDefault(s.ruleset.tables, v6, false)
		s.forwardDefault[i] = familyDefault(s.ruleset.tables, v6, true)
	}
	s.firewalldRunning = s.firewalldTables()
	if !s.firewalldRunning && s.firewalld.installed && s.units.enabled["firewalld.service"] {
		// Enabled but its rules are not loaded: ask it (a Python program, so only then).
		out := runAll(ctx, h, argvFirewallState())[0]
		s.firewalldRunning = out.err == nil && out.out.ExitCode == 0 &&
			strings.TrimSpace(string(out.out.Stdout)) == "running"
	}
	return s
}

// familyDefault is the effective default for new TCP and UDP traffic of one address
// family: the more permissive of the two (an accepted protocol is reported).
func familyDefault(tables []*table, v6, forward bool) defaultVerdict {
	hooks := []string{hookPrerouting, hookInput}
	if forward {
		hooks = []string{hookPrerouting, hookForward}
	}
	tcp := defaultPath(tables, packet{v6: v6, proto: "tcp", forward: forward}, hooks...)
	udp := defaultPath(tables, packet{v6: v6, proto: "udp", forward: forward}, hooks...)
	if tcp.verdict != vAccept && udp.verdict == vAccept {
		return udp
	}
	return tcp
}

// Admission is how the firewall treats new inbound traffic to a local port.
type Admission int

// Admissions.
const (
	// AdmitUnknown: the rules cannot be judged for this port (e.g. they match on
	// interfaces or addresses the verdict depends on, or the firewall could not be read).
	AdmitUnknown Admission = iota
	// Admitted: new connections from any source reach the port.
	Admitted
	// Restricted: only some sources reach the port (source-restricted accept rules).
	Restricted
	// Blocked: new inbound connections are dropped or rejected.
	Blocked
)

// String names the admission for messages.
func (a Admission) String() string {
	switch a {
	case Admitted:
		return "admitted"
	case Restricted:
		return "restricted"
	case Blocked:
		return "blocked"
	}
	return "unknown"
}

// Inbound reports how new inbound traffic from the network (not loopback) to a local port
// is treated. ipv6 selects the address family, proto is "tcp" or "udp".
//
// The first packet of a new connection from an arbitrary remote address is followed
// through every filter base chain on the ingress, prerouting and input hooks of every
// backend, in hook and priority order: each must accept it, so any drop wins. A destination
// NAT rule for the port (a published container port) makes it AdmitUnknown, since the
// packet then leaves the input path. Rules matching
// established or related connections, or the loopback interface, do not match it; a rule
// accepting only some source addresses makes the port Restricted; a rule the evaluation
// cannot decide (interface names, marks, undecoded iptables-nft matches) makes it
// AdmitUnknown unless a definite drop comes first. Without any base chain the port is
// Admitted: there is no firewall. When the ruleset could not be read, AdmitUnknown.
func (s *State) Inbound(ipv6 bool, proto string, port int) Admission {
	if s == nil || s.ruleset == nil || port < 1 || port > 65535 {
		return AdmitUnknown
	}
	p := packet{v6: ipv6, proto: l4Name(proto), port: port}
	return evaluate(s.ruleset.tables, p)
}

// Checks returns every check of the family, in report order, sharing c.
func Checks(c *Collector) []checks.Check {
	return []checks.Check{
		fwCheck{id: "firewall.active", c: c, run: runActive},
		fwCheck{id: "firewall.single-manager", c: c, run: runSingleManager},
		fwCheck{id: "firewall.default-inbound", c: c, run: runDefaultInbound},
		fwCheck{id: "firewall.ipv6-filtered", c: c, run: runIPv6Filtered},
		fwCheck{id: "firewall.ruleset-not-empty", c: c, run: runRulesetNotEmpty},
		fwCheck{id: "firewall.persistent", c: c, run: runPersistent},
		fwCheck{id: "firewall.broad-accept", c: c, run: runBroadAccept},
		fwCheck{id: "firewall.forward-policy", c: c, run: runForwardPolicy},
		fwCheck{id: "firewall.mixed-backends", c: c, run: runMixedBackends},
		fwCheck{id: "firewall.logging", c: c, run: runLogging},
	}
}

// fwCheck is a check of this family: it gets the shared state and judges it.
type fwCheck struct {
	id  string
	c   *Collector
	run func(ctx context.Context, h host.Host, s *State) (checks.Result, error)
}

// ID implements checks.Check.
func (k fwCheck) ID() string { return k.id }

// Run implements checks.Check.
func (k fwCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	s, err := k.c.Get(ctx, h)
	if err != nil {
		return checks.FromError("firewall state", err), nil
	}
	return k.run(ctx, h, s)
}

// liveFailure is the result of a check that needs the live ruleset when it is unknown.
func liveFailure(err error) checks.Result {
	if errors.Is(err, host.ErrNotLive) {
		return checks.Skip(report.ReasonNotLive, "the loaded ruleset can only be read on the running system")
	}
	var ce *commandError
	if errors.As(err, &ce) && ce.cause == nil {
		return checks.Error(report.ReasonCommandFailed, "%s", err.Error())
	}
	return checks.FromError("firewall ruleset", err)
}
