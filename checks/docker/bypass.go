package docker

import (
	"context"
	"fmt"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// firewallBypass returns docker.firewall-bypass, which joins the containers with the
// firewall family's state. Docker publishes a port with a DNAT rule in the nat table and an
// ACCEPT in its own FORWARD chains; the packet never reaches the INPUT chains where ufw and
// firewalld put their rules, so "ufw deny 8080" does nothing for a published port
// (moby/moby#22054). The only hook Docker leaves is the DOCKER-USER chain, which FORWARD
// jumps to first. The check fails when Docker manages iptables, ufw or firewalld is the
// active manager, a port is published on all interfaces, and DOCKER-USER holds no rule.
func firewallBypass(fw *firewall.Collector) func(context.Context, host.Host, *state) checks.Result {
	return func(ctx context.Context, h host.Host, s *state) checks.Result {
		found, ports := publishedAll(s)
		withPorts := func(r checks.Result) checks.Result {
			names := make([]string, len(found))
			for i, f := range found {
				names[i] = f.name
			}
			return objects(r.Ints("ports", portFacts(ports)), "containers", names)
		}
		if s.confErr == nil && !s.conf.iptablesOn() {
			return withPorts(checks.Skip(report.ReasonNotApplicable, "Docker does not manage iptables (see docker.iptables)"))
		}
		if fw == nil {
			return checks.Skip(report.ReasonNotApplicable, "no firewall state is shared with this family")
		}
		st, err := fw.Get(ctx, h)
		if err != nil {
			return checks.FromError("firewall state", err)
		}
		if err := st.LiveErr(); err != nil {
			return checks.FromError("firewall ruleset", err)
		}
		managers := st.ActiveManagers()
		withFacts := func(r checks.Result) checks.Result {
			return withPorts(r).Enums("managers", orEmpty(managers))
		}
		if len(managers) == 0 {
			return withFacts(checks.Skip(report.ReasonNotApplicable, "neither ufw nor firewalld is active; published ports are judged by the firewall and ports families"))
		}
		if len(found) == 0 {
			return withFacts(checks.Pass("no container port is published on all interfaces, so none bypasses %s", strings.Join(managers, " and "))).
				Int("docker_user_rules", 0)
		}
		v4, found4 := st.DockerUserRules(false)
		v6, found6 := st.DockerUserRules(true)
		rules := v4 + v6
		var r checks.Result
		switch {
		case rules > 0:
			r = checks.Pass("published container ports pass the DOCKER-USER chain (%d rule(s)) before Docker accepts them", rules)
		case !st.DockerChains():
			return withFacts(checks.Skip(report.ReasonNotApplicable, "Docker's iptables chains are not loaded (another firewall backend?): the path of published ports cannot be judged")).
				Int("docker_user_rules", 0)
		default:
			r = checks.Fail("%d port(s) published on all interfaces bypass %s: Docker forwards them before its rules apply, and DOCKER-USER is empty",
				len(ports), strings.Join(managers, " and "))
		}
		r = withFacts(r).Int("docker_user_rules", int64(rules))
		for _, f := range found {
			r = r.Detail("%s: %s", f.name, f.what)
		}
		return r.Detail("DOCKER-USER: IPv4 %s, IPv6 %s", chainState(found4, v4), chainState(found6, v6))
	}
}

// chainState describes a DOCKER-USER chain for the details.
func chainState(found bool, rules int) string {
	if !found {
		return "absent"
	}
	return fmt.Sprintf("%d rule(s) besides RETURN", rules)
}
