package firewall

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// This file holds the checks that judge the running ruleset: they skip with not_live on
// an offline root.

// policyName is the fact value of a default verdict.
func policyName(v verdictKind) string {
	switch v {
	case vNone:
		return "none"
	case vAccept, vDrop, vReject, vQueue:
		return v.String()
	}
	return "unknown"
}

// orEmpty returns list, or an empty list for nil, so that list facts are never null.
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// inputChains returns the filter base chains on the input hook, of both address families.
func (s *State) inputChains() []*chain {
	var out []*chain
	for _, v6 := range []bool{false, true} {
		for _, c := range baseChains(s.ruleset.tables, v6, hookInput) {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// filteringInput returns the input chains that filter (rules or a drop policy).
func (s *State) filteringInput() []*chain {
	var out []*chain
	for _, c := range s.inputChains() {
		if c.filters() {
			out = append(out, c)
		}
	}
	return out
}

// backendCounts counts the rules (outside NAT tables unless all is set) per backend.
func (s *State) backendCounts(all bool) map[backend]int {
	n := map[backend]int{}
	for _, t := range s.ruleset.tables {
		if all || !t.isNAT() {
			n[t.backend] += t.rules
		}
	}
	return n
}

// needLive returns the result to report when the live ruleset is unknown, or nil.
func (s *State) needLive() *checks.Result {
	if s.ruleset != nil {
		return nil
	}
	r := liveFailure(s.liveErr)
	return &r
}

func chainLabels(list []*chain) string {
	var out []string
	for _, c := range list {
		out = append(out, c.label())
	}
	return strings.Join(out, ", ")
}

// runActive is firewall.active: some backend filters the input hook, or ufw or firewalld
// is active.
func runActive(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	filtering := s.filteringInput()
	var backends []string
	for _, c := range filtering {
		if b := c.table.backend.String(); !slices.Contains(backends, b) {
			backends = append(backends, b)
		}
	}
	managers := s.activeManagers()
	withFacts := func(r checks.Result) checks.Result {
		r = r.Enums("backends", orEmpty(backends)).Enums("managers", orEmpty(managers)).Int("input_chains", int64(len(filtering)))
		return r.Detail("read: %s", strings.Join(s.ruleset.sources, ", "))
	}
	if len(filtering) == 0 && len(managers) == 0 {
		return withFacts(checks.Fail("no backend filters incoming traffic: no input chain has rules or a drop policy")), nil
	}
	what := "input traffic is filtered"
	if len(managers) > 0 {
		what += " by " + strings.Join(managers, " and ")
	}
	if len(backends) > 0 {
		what += " (" + strings.Join(backends, ", ") + ")"
	}
	return withFacts(checks.Pass("%s", what)).Detail("filtering input chains: %s", chainLabels(filtering)), nil
}

// describeDefault explains a default verdict for the local report.
func describeDefault(d defaultVerdict) string {
	switch {
	case d.verdict == vNone:
		return "no filter chain on this path"
	case d.chain == nil:
		return d.verdict.String()
	}
	return d.verdict.String() + " by " + located{d.chain, d.rule}.String()
}

// runDefaultInbound is firewall.default-inbound: new IPv4 traffic that no rule names is
// dropped or rejected. Live, the ruleset decides; offline, the managers enabled at boot.
func runDefaultInbound(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	if !s.live {
		return bootDefaultInbound(s)
	}
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	d4, d6 := s.inputDefault[0], s.inputDefault[1]
	res := func(r checks.Result) checks.Result {
		return r.Enum("ipv4_policy", policyName(d4.verdict)).Enum("ipv6_policy", policyName(d6.verdict)).
			Detail("IPv4: %s", describeDefault(d4)).Detail("IPv6: %s", describeDefault(d6))
	}
	switch d4.verdict {
	case vDrop, vReject:
		return res(checks.Pass("new inbound IPv4 traffic to ports no rule opens is %s", pastTense(d4.verdict))), nil
	case vAccept:
		if d4.rule != nil {
			return res(checks.Fail("new inbound IPv4 traffic to any port is accepted by a rule without conditions")), nil
		}
		return res(checks.Fail("new inbound IPv4 traffic is accepted by default: the input policy is accept and no final rule drops it")), nil
	case vNone:
		return res(checks.Fail("no firewall chain filters inbound IPv4 traffic: everything is accepted")), nil
	}
	return res(checks.Skip(report.ReasonNotSupported, "the default for new inbound IPv4 traffic is decided by %s", describeDefault(d4))), nil
}

// runIPv6Filtered is firewall.ipv6-filtered: a host with a global IPv6 address drops new
// inbound IPv6 traffic that no rule names.
func runIPv6Filtered(_ context.Context, h host.Host, s *State) (checks.Result, error) {
	if !s.live {
		return checks.Skip(report.ReasonNotLive, "global IPv6 addresses can only be read on the running system"), nil
	}
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	global, present, err := globalIPv6(proc)
	if err != nil {
		return checks.FromError("/proc/net/if_inet6", err), nil
	}
	if !present {
		return checks.Skip(report.ReasonNotApplicable, "IPv6 is disabled (no /proc/net/if_inet6)").Bool("global_ipv6", false), nil
	}
	if global == 0 {
		return checks.Skip(report.ReasonNotApplicable, "the host has no global IPv6 address").Bool("global_ipv6", false), nil
	}
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	d6 := s.inputDefault[1]
	res := func(r checks.Result) checks.Result {
		r = r.Bool("global_ipv6", true).Enum("ipv6_policy", policyName(d6.verdict)).
			Detail("%d global IPv6 address(es)", global).Detail("IPv6: %s", describeDefault(d6))
		if s.ufwLive() && !s.ufw.ipv6 {
			r = r.Detail("ufw runs with IPV6=no in /etc/default/ufw: it loads no IPv6 rules")
		}
		return r
	}
	switch d6.verdict {
	case vDrop, vReject:
		return res(checks.Pass("the host has a global IPv6 address and new inbound IPv6 traffic to ports no rule opens is %s", pastTense(d6.verdict))), nil
	case vAccept:
		return res(checks.Fail("the host has a global IPv6 address and new inbound IPv6 traffic is accepted by default")), nil
	case vNone:
		return res(checks.Fail("the host has a global IPv6 address and no firewall chain filters inbound IPv6 traffic")), nil
	}
	return res(checks.Skip(report.ReasonNotSupported, "the default for new inbound IPv6 traffic is decided by %s", describeDefault(d6))), nil
}

// runRulesetNotEmpty is firewall.ruleset-not-empty: some backend holds filtering rules.
func runRulesetNotEmpty(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	if !s.live {
		return checks.Skip(report.ReasonNotLive, "the loaded ruleset can only be read on the running system"), nil
	}
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	counts := s.backendCounts(false)
	total := counts[backendNft] + counts[backendIptNft] + counts[backendIptLegacy]
	drop := hasDropPolicy(s.ruleset.tables)
	r := checks.Result{}
	if total > 0 || drop {
		r = checks.Pass("%d filtering rule(s) loaded (nftables %d, iptables-nft %d, iptables-legacy %d)",
			total, counts[backendNft], counts[backendIptNft], counts[backendIptLegacy])
		if total == 0 {
			r = checks.Pass("no filtering rules are loaded, but a chain drops everything by policy")
		}
	} else {
		r = checks.Fail("no filtering rules are loaded in any backend (nftables, iptables-nft, iptables-legacy)")
	}
	return r.Int("total_rules", int64(total)).Int("nftables_rules", int64(counts[backendNft])).
		Int("iptables_nft_rules", int64(counts[backendIptNft])).Int("iptables_legacy_rules", int64(counts[backendIptLegacy])).
		Detail("read: %s", strings.Join(s.ruleset.sources, ", ")), nil
}

// runBroadAccept is firewall.broad-accept: no rule on the input path accepts every new
// connection (no port, source, interface or state condition) before the traffic could be
// dropped.
func runBroadAccept(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	if !s.live {
		return checks.Skip(report.ReasonNotLive, "the loaded ruleset can only be read on the running system"), nil
	}
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	if len(s.filteringInput()) == 0 {
		return checks.Skip(report.ReasonNotApplicable, "no firewall filters incoming traffic (see firewall.active)"), nil
	}
	var found []string
	var families []string
	for _, v6 := range []bool{false, true} {
		for _, proto := range []string{"tcp", "udp"} {
			d := defaultPath(s.ruleset.tables, packet{v6: v6, proto: proto}, hookPrerouting, hookInput)
			for _, l := range d.broad {
				desc := l.String()
				if !slices.Contains(found, desc) {
					found = append(found, desc)
				}
				if f := map[bool]string{false: "ipv4", true: "ipv6"}[v6]; !slices.Contains(families, f) {
					families = append(families, f)
				}
			}
		}
	}
	if len(found) == 0 {
		return checks.Pass("no input rule accepts all new connections").Int("broad_rules", 0), nil
	}
	r := checks.Fail("%d input rule(s) accept new connections to every port from anywhere", len(found)).
		Int("broad_rules", int64(len(found))).Enums("families", orEmpty(families))
	for _, f := range found {
		r = r.Detail("%s", f)
	}
	return r, nil
}

// runMixedBackends is firewall.mixed-backends: rules are loaded in only one of the
// legacy (x_tables) and nf_tables backends.
func runMixedBackends(_ context.Context, _ host.Host, s *State) (checks.Result, error) {
	if !s.live {
		return checks.Skip(report.ReasonNotLive, "the loaded ruleset can only be read on the running system"), nil
	}
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	counts := s.backendCounts(true)
	legacy := counts[backendIptLegacy]
	nf := counts[backendNft] + counts[backendIptNft]
	for _, t := range s.ruleset.tables {
		if t.backend == backendIptLegacy && hasDropPolicy([]*table{t}) && legacy == 0 {
			legacy = -1 // a drop policy without rules still filters
		}
	}
	res := func(r checks.Result) checks.Result {
		r = r.Int("legacy_rules", int64(max(legacy, 0))).Int("nf_tables_rules", int64(nf))
		if !s.ruleset.legacyTool {
			r = r.Detail("iptables-legacy-save is not installed; legacy tables are assumed empty")
		}
		return r
	}
	if legacy != 0 && nf > 0 {
		return res(checks.Fail("rules are loaded in both the legacy iptables backend and nf_tables: each tool shows only its own")), nil
	}
	switch {
	case legacy != 0:
		return res(checks.Pass("rules are loaded in the legacy iptables backend only")), nil
	case nf > 0:
		return res(checks.Pass("rules are loaded in nf_tables only")), nil
	}
	return res(checks.Pass("no rules are loaded in either backend")), nil
}

// runForwardPolicy is firewall.forward-policy: a host that forwards packets drops
// forwarded traffic by default, unless it is a container host or a router.
func runForwardPolicy(_ context.Context, h host.Host, s *State) (checks.Result, error) {
	if !s.live {
		return checks.Skip(report.ReasonNotLive, "forwarding can only be read on the running system"), nil
	}
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	fwd, err := forwarding(proc)
	if err != nil {
		return checks.FromError("forwarding sysctl", err), nil
	}
	if r := s.needLive(); r != nil {
		return *r, nil
	}
	res := func(r checks.Result) checks.Result {
		r = r.Int("ipv4_forward", fwd[0]).Enum("ipv4_forward_policy", policyName(s.forwardDefault[0].verdict)).
			Enum("ipv6_forward_policy", policyName(s.forwardDefault[1].verdict))
		if fwd[1] >= 0 {
			r = r.Int("ipv6_forward", fwd[1])
		}
		return r.Detail("IPv4 forward: %s", describeDefault(s.forwardDefault[0])).
			Detail("IPv6 forward: %s", describeDefault(s.forwardDefault[1]))
	}
	var open []string
	for i, name := range []string{"IPv4", "IPv6"} {
		if fwd[i] <= 0 {
			continue
		}
		switch s.forwardDefault[i].verdict {
		case vDrop, vReject:
		default:
			open = append(open, name)
		}
	}
	if fwd[0] <= 0 && fwd[1] <= 0 {
		return res(checks.Pass("the host does not forward packets")), nil
	}
	if len(open) == 0 {
		return res(checks.Pass("the host forwards packets and drops forwarded traffic no rule allows")), nil
	}
	msg := fmt.Sprintf("%s forwarding is on and forwarded traffic is accepted by default", strings.Join(open, " and "))
	role, evidence, err := hostRole(h, proc)
	if err != nil {
		return checks.FromError("host role detection", err), nil
	}
	switch role {
	case "container":
		r := res(checks.Skip(report.ReasonNotApplicable, "%s, as a container or virtualisation host needs", msg)).Bool("container_host", true)
		for _, e := range evidence {
			r = r.Detail("%s", e)
		}
		return r, nil
	case "router":
		r := res(checks.Skip(report.ReasonNotApplicable, "%s, as a router or VPN gateway needs", msg)).
			Bool("container_host", false).Bool("router_host", true)
		for _, e := range evidence {
			r = r.Detail("%s", e)
		}
		return r, nil
	}
	return res(checks.Fail("%s", msg)).Bool("container_host", false).Bool("router_host", false), nil
}
