package ports

import (
	"context"
	"slices"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// publicServices are meant to be reached from anywhere: remote administration (SSH), web,
// mail, DNS and VPN endpoints, and DHCP client sockets (which receive replies, not
// requests). A firewall admitting them is not a gap.
func publicServices() []string {
	return []string{"ssh", "http", "https", "smtp", "smtps", "submission", "imap", "imaps", "pop3", "pop3s",
		"dns", "wireguard", "openvpn", "ipsec", "tailscale", "dhcp-client"}
}

// coverageCheck is ports.firewall-coverage: the join of the listening sockets with the
// firewall. Every listener beyond loopback that is not an intentionally public service
// (publicServices) should be restricted or blocked by the host firewall. It fails when the
// firewall admits such a listener from anywhere (which includes a host without a
// firewall). Ports whose verdict the firewall family cannot judge are listed, not failed;
// when every candidate is unknown the check skips (not_supported). When the firewall
// state cannot be read, the check reports that reason.
type coverageCheck struct{ f *family }

// ID implements checks.Check.
func (coverageCheck) ID() string { return "ports.firewall-coverage" }

// Run implements checks.Check.
func (c coverageCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	pol, err := c.f.policy(ctx, h)
	if err != nil {
		return checks.FromError("firewall state", err), nil
	}
	return evalCoverage(inv, pol), nil
}

func evalCoverage(inv *inventory, pol inboundPolicy) checks.Result {
	all := inv.exposed()
	ls := slices.DeleteFunc(slices.Clone(all), func(l listener) bool { return slices.Contains(publicServices(), l.service) })
	verdicts, names := admissions(pol, ls)
	var open, unknown []listener
	for i, l := range ls {
		switch verdicts[i] {
		case firewall.Admitted:
			open = append(open, l)
		case firewall.AdmitUnknown:
			unknown = append(unknown, l)
		}
	}
	var res checks.Result
	switch {
	case len(ls) == 0:
		res = checks.Pass("no listener beyond loopback besides intentionally public services")
	case len(open) > 0:
		res = checks.Fail("the firewall admits %d listener(s) from anywhere that are not public services: %s", len(open), summary(open))
	case len(unknown) == len(ls):
		res = checks.Skip(report.ReasonNotSupported, "the firewall verdict is unknown for every listener beyond loopback: %s", summary(ls))
	case len(unknown) > 0:
		res = checks.Pass("the firewall restricts %d listener(s); verdict unknown for %d: %s", len(ls)-len(unknown), len(unknown), summary(unknown))
	default:
		res = checks.Pass("the firewall restricts every listener beyond loopback that is not a public service (%d)", len(ls))
	}
	res = withListeners(res, ls, maxListed)
	if len(ls) > 0 {
		res = res.Enums("firewall", names).Int("admitted", int64(len(open))).Int("unknown", int64(len(unknown)))
	}
	res = withDetails(res, ls, func(l listener) string {
		note := "firewall: " + admissionName(admission(pol, l))
		if l.comm() == "docker-proxy" {
			note += " (a port Docker publishes is forwarded by its NAT rules before the INPUT chain; the verdict may not apply)"
		}
		return note
	})
	if skipped := len(all) - len(ls); skipped > 0 {
		res = res.Detail("%d intentionally public listener(s) not judged (SSH, web, mail, DNS, VPN, DHCP client)", skipped)
	}
	return res
}
