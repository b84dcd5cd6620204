package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
	"github.com/securecodehq/server-audit/pkg/report"
)

// ipForwardingCheck is system.ip-forwarding. It passes when the host forwards no packets:
// net.ipv4.ip_forward and net.ipv6.conf.all.forwarding are 0 and no IPv4 interface has
// forwarding switched on by itself (the kernel routes a packet through when the interface it
// arrived on forwards). When forwarding is on, a container or virtualisation host needs it
// for its guests, and so does a router or VPN gateway (tunnel interfaces, routing or VPN
// daemons): the check skips as not_applicable there; any other host fails. Other hosts where
// forwarding is intended suppress the check with a reason.
type ipForwardingCheck struct{}

// ID implements checks.Check.
func (ipForwardingCheck) ID() string { return "system.ip-forwarding" }

// Run implements checks.Check.
func (ipForwardingCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	const key4, key6 = "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"
	v4, err := hostinfo.Sysctl(proc, key4)
	if err != nil {
		return sysctlError(key4, err), nil
	}
	parts := []string{fmt.Sprintf("%s = %d", key4, v4)}
	v6, err := hostinfo.Sysctl(proc, key6)
	ipv6 := err == nil
	switch {
	case ipv6:
		parts = append(parts, fmt.Sprintf("%s = %d", key6, v6))
	case !errors.Is(err, fs.ErrNotExist):
		return checks.FromError(key6, err), nil
	}
	conf, err := readNetConf(proc, "ipv4", "forwarding")
	if err != nil {
		return netConfError(err), nil
	}
	ifaces := conf.namesWhere(func(iv ifaceValue) bool { return iv.value != 0 })
	if v4 == 0 && len(ifaces) > 0 {
		parts = append(parts, fmt.Sprintf("%d interface(s) with forwarding on", len(ifaces)))
	}

	withFacts := func(r checks.Result) checks.Result {
		r = r.Int("ipv4_forward", v4).Int("forwarding_interfaces", int64(len(ifaces)))
		if ipv6 {
			r = r.Int("ipv6_forward", v6)
		}
		if len(ifaces) > 0 {
			r = r.Detail("IPv4 interfaces forwarding: %s", nameList(ifaces))
		}
		if !ipv6 {
			r = r.Detail("%s is absent (IPv6 disabled); IPv4 only", key6)
		}
		return r
	}
	msg := strings.Join(parts, "; ")
	if v4 == 0 && (!ipv6 || v6 == 0) && len(ifaces) == 0 {
		return withFacts(checks.Pass("%s: the host forwards no packets", msg)), nil
	}

	evidence, err := hostinfo.ContainerHostEvidence(h, proc)
	if err != nil {
		return checks.FromError("container host detection", err), nil
	}
	if len(evidence) > 0 {
		res := checks.Skip(report.ReasonNotApplicable, "%s: forwarding is required on this container or virtualisation host", msg)
		res = withFacts(res).Bool("container_host", true)
		for _, e := range evidence {
			res = res.Detail("%s", e)
		}
		return res, nil
	}
	routing, err := hostinfo.RouterEvidence(h, proc)
	if err != nil {
		return checks.FromError("router detection", err), nil
	}
	if len(routing) > 0 {
		res := checks.Skip(report.ReasonNotApplicable, "%s: forwarding is required on this router or VPN gateway", msg)
		res = withFacts(res).Bool("container_host", false).Bool("router_host", true)
		for _, e := range routing {
			res = res.Detail("%s", e)
		}
		return res, nil
	}
	return withFacts(checks.Fail("%s: the host routes packets between networks, want 0", msg)).
		Bool("container_host", false).Bool("router_host", false), nil
}
