package firewall

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
	"github.com/securecodehq/server-audit/pkg/report"
)

// This file holds the checks that also judge the configuration files (what starts at
// boot), so they evaluate offline roots too, and the host facts some checks need.

// runSingleManager is firewall.single-manager: at most one of ufw, firewalld, the
// nftables service and netfilter-persistent/iptables-services is enabled or active.
func runSingleManager(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	boot, err := s.bootManagers()
	if err != nil {
		return checks.FromError("firewall managers", err), nil
	}
	names := managerNames(boot)
	var details []string
	for _, m := range boot {
		details = append(details, m.why)
	}
	for _, m := range s.activeManagers() {
		if !slices.Contains(names, m) {
			names = append(names, m)
			details = append(details, m+": its rules are loaded now")
		}
	}
	var r checks.Result
	switch len(names) {
	case 0:
		r = checks.Pass("no firewall manager is enabled or active")
	case 1:
		r = checks.Pass("one firewall manager is in charge: %s", names[0])
	default:
		r = checks.Fail("%d firewall managers are enabled or active: %s", len(names), strings.Join(names, ", "))
	}
	r = r.Enums("managers", orEmpty(names)).Int("manager_count", int64(len(names)))
	for _, d := range details {
		r = r.Detail("%s", d)
	}
	return r, nil
}

// bootDefaultInbound judges firewall.default-inbound on an offline root from the
// managers enabled at boot.
func bootDefaultInbound(s *State) (checks.Result, error) {
	boot, err := s.bootManagers()
	if err != nil {
		return checks.FromError("firewall managers", err), nil
	}
	if len(boot) == 0 {
		return checks.Skip(report.ReasonNotApplicable, "no firewall manager is enabled at boot (see firewall.persistent)").
			Enums("managers", []string{}), nil
	}
	v4, why4 := s.bootDefault(false, boot)
	v6, why6 := s.bootDefault(true, boot)
	r := checks.Result{}
	switch v4 {
	case vDrop, vReject:
		r = checks.Pass("at boot, new inbound IPv4 traffic to ports no rule opens is %s", pastTense(v4))
	case vAccept:
		r = checks.Fail("at boot, new inbound IPv4 traffic is accepted by default")
	default:
		r = checks.Fail("the firewall managers enabled at boot (%s) load no inbound IPv4 filtering", strings.Join(managerNames(boot), ", "))
	}
	r = r.Enum("ipv4_policy", policyName(v4)).Enum("ipv6_policy", policyName(v6)).Enums("managers", orEmpty(managerNames(boot)))
	if len(why4)+len(why6) == 0 {
		for _, m := range boot {
			r = r.Detail("%s", m.why)
		}
	}
	for _, w := range why4 {
		r = r.Detail("IPv4: %s", w)
	}
	for _, w := range why6 {
		r = r.Detail("IPv6: %s", w)
	}
	if s.nftConf.present && s.nftConf.cfg.includes > 0 {
		r = r.Detail("%s includes other files, which were not read", s.nftConf.path)
	}
	return r, nil
}

func pastTense(v verdictKind) string {
	if v == vReject {
		return "rejected"
	}
	return "dropped"
}

// runPersistent is firewall.persistent: the loaded ruleset is reloaded at boot by an
// enabled manager. Offline, a manager must be enabled that loads a ruleset.
func runPersistent(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	boot, err := s.bootManagers()
	if err != nil {
		return checks.FromError("firewall managers", err), nil
	}
	var loading []bootManager
	for _, m := range boot {
		if m.loads {
			loading = append(loading, m)
		}
	}
	withBoot := func(r checks.Result) checks.Result {
		r = r.Enums("persistent_managers", orEmpty(managerNames(loading)))
		for _, m := range boot {
			r = r.Detail("%s", m.why)
		}
		return r
	}
	names := strings.Join(managerNames(loading), ", ")
	if !s.live {
		if len(loading) > 0 {
			return withBoot(checks.Pass("a firewall ruleset is loaded at boot by %s", names)), nil
		}
		return withBoot(checks.Fail("no firewall manager is enabled to load a ruleset at boot")), nil
	}
	if s.ruleset == nil {
		if len(loading) > 0 {
			return withBoot(checks.Pass("a firewall ruleset is loaded at boot by %s", names)).
				Detail("the live ruleset could not be read: %v", s.liveErr), nil
		}
		return liveFailure(s.liveErr), nil
	}
	loaded := len(s.filteringInput()) > 0 || len(s.activeManagers()) > 0
	if !loaded {
		if len(loading) > 0 {
			return withBoot(checks.Pass("no input filtering is loaded now, but %s loads a ruleset at boot", names)).Bool("live_filtering", false), nil
		}
		return withBoot(checks.Skip(report.ReasonNotApplicable, "no input filtering is loaded and no firewall manager is enabled to load one at boot")).Bool("live_filtering", false), nil
	}
	if len(loading) > 0 {
		return withBoot(checks.Pass("the firewall ruleset is reloaded at boot by %s", names)).Bool("live_filtering", true), nil
	}
	return withBoot(checks.Fail("firewall rules are loaded but no enabled manager loads them at boot: they vanish on reboot")).Bool("live_filtering", true), nil
}

// runLogging is firewall.logging: traffic the firewall drops is logged.
func runLogging(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	withConfig := func(r checks.Result) checks.Result {
		if s.ufw.installed && s.ufw.logLevel != "" {
			r = r.Enum("ufw_loglevel", s.ufw.logLevel)
		}
		if s.firewalld.installed && s.firewalld.err == nil {
			r = r.Enum("firewalld_log_denied", s.firewalld.logDenied)
		}
		return r
	}
	if !s.live {
		return bootLogging(s, withConfig)
	}
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	filtering := len(s.filteringInput()) > 0 || len(s.activeManagers()) > 0
	_, logRules := filterRules(s.ruleset.tables)
	res := func(r checks.Result) checks.Result { return withConfig(r).Int("log_rules", int64(logRules)) }
	if !filtering {
		return res(checks.Skip(report.ReasonNotApplicable, "no firewall filters incoming traffic (see firewall.active)")), nil
	}
	switch {
	case logRules > 0:
		return res(checks.Pass("%d rule(s) log packets", logRules)), nil
	case s.firewalldRunning && s.firewalld.logDenied != "off":
		return res(checks.Pass("firewalld logs denied packets (LogDenied=%s)", s.firewalld.logDenied)), nil
	}
	r := res(checks.Fail("no rule logs dropped packets"))
	if s.ufwLive() {
		r = r.Detail("ufw logging is %q in /etc/ufw/ufw.conf", s.ufw.logLevel)
	}
	if s.firewalldRunning {
		r = r.Detail("firewalld LogDenied=%s", s.firewalld.logDenied)
	}
	return r, nil
}

// bootLogging judges firewall.logging on an offline root from the enabled managers.
func bootLogging(s *State, withConfig func(checks.Result) checks.Result) (checks.Result, error) {
	boot, err := s.bootManagers()
	if err != nil {
		return checks.FromError("firewall managers", err), nil
	}
	var logging, silent []string
	for _, m := range boot {
		if !m.loads {
			continue
		}
		logs := false
		switch m.name {
		case mgrUFW:
			logs = s.ufw.logLevel != "off" && s.ufw.logLevel != ""
		case mgrFirewalld:
			logs = s.firewalld.logDenied != "off"
		case mgrNftables:
			logs = s.nftConf.cfg.logRules > 0
		default:
			for _, f := range s.persisted {
				if _, n := filterRules(f.tables); n > 0 && s.fileOf(m.name, f.path) {
					logs = true
				}
			}
		}
		if logs {
			logging = append(logging, m.name)
		} else {
			silent = append(silent, m.name)
		}
	}
	switch {
	case len(logging) > 0:
		return withConfig(checks.Pass("dropped packets are logged by %s", strings.Join(logging, ", "))), nil
	case len(silent) > 0:
		return withConfig(checks.Fail("the firewall loaded at boot (%s) logs no dropped packets", strings.Join(silent, ", "))), nil
	}
	return withConfig(checks.Skip(report.ReasonNotApplicable, "no firewall manager enabled at boot loads a ruleset")), nil
}

// globalIPv6 counts the addresses of global scope in /proc/net/if_inet6; present is false
// when IPv6 is disabled (the file does not exist).
func globalIPv6(proc host.FS) (global int, present bool, err error) {
	data, err := host.ReadFileLimit(proc, "/net/if_inet6", 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 6 || len(f[0]) != 32 {
			return 0, true, fmt.Errorf("parse /proc/net/if_inet6 line %d: %w", i+1, checks.ErrParse)
		}
		if f[3] == "00" {
			global++
		}
	}
	return global, true, nil
}

// forwarding reads net.ipv4.ip_forward and net.ipv6.conf.all.forwarding; the IPv6 value
// is -1 when IPv6 is disabled.
func forwarding(proc host.FS) ([2]int64, error) {
	v4, err := hostinfo.Sysctl(proc, "net.ipv4.ip_forward")
	if err != nil {
		return [2]int64{}, err
	}
	v6, err := hostinfo.Sysctl(proc, "net.ipv6.conf.all.forwarding")
	if errors.Is(err, fs.ErrNotExist) {
		v6, err = -1, nil
	}
	return [2]int64{v4, v6}, err
}

// hostRole says whether the host is a container or virtualisation host ("container") or
// a router or VPN gateway ("router"), with the evidence, or "".
func hostRole(h host.Host, proc host.FS) (string, []string, error) {
	evidence, err := hostinfo.ContainerHostEvidence(h, proc)
	if err != nil {
		return "", nil, err
	}
	if len(evidence) > 0 {
		return "container", evidence, nil
	}
	evidence, err = hostinfo.RouterEvidence(h, proc)
	if err != nil {
		return "", nil, err
	}
	if len(evidence) > 0 {
		return "router", evidence, nil
	}
	return "", nil, nil
}
