// Package ports holds the listening-socket checks: what the host exposes to the network and
// whether the firewall covers it.
//
// One collector per host reads /proc/net/{tcp,tcp6,udp,udp6} (TCP sockets in LISTEN, bound
// and unconnected UDP sockets), attributes each socket to the process holding it through
// /proc/<pid>/fd, and classifies its address as loopback, private, public or any. Sockets
// of one protocol and port form a listener; the service on it comes from declared port and
// program tables. The checks judge listeners by service and scope, some joined with the
// firewall family's verdict for the port.
//
// The tables are the sockets of the network namespace the agent runs in: a container with
// its own namespace is seen through the ports its engine publishes (docker-proxy), not its
// own sockets.
//
// Facts carry ports, protocol, scope, service and program enums only; addresses, program
// names outside the declared list and paths stay in the local details.
package ports

import (
	"context"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
)

// Checks returns every check of the family, in report order; fw is the firewall state
// shared with the firewall family.
func Checks(fw *firewall.Collector) []checks.Check {
	f := &family{inv: newCollector(), policy: fromCollector(fw)}
	return []checks.Check{
		cleartextCheck{f},
		datastoresCheck{f},
		dockerAPICheck{f},
		controlPlanesCheck{f},
		remoteAccessCheck{f},
		mtaCheck{f},
		coverageCheck{f},
		inventoryCheck{f},
	}
}

// family is what the checks share: the socket inventory and the firewall policy.
type family struct {
	inv    *checks.Memo[*inventory]
	policy policySource
}

// load returns the inventory of h, or the result to report when it cannot be read (skip
// not_live on an offline root, error parse_error on a malformed table).
func (f *family) load(ctx context.Context, h host.Host) (*inventory, *checks.Result) {
	inv, err := f.inv.Get(ctx, h)
	if err != nil {
		res := checks.FromError("listening sockets", err)
		return nil, &res
	}
	return inv, nil
}

// optionalPolicy returns the firewall policy for checks that only refine their verdict
// with it: when the firewall cannot be read, every port is AdmitUnknown and note says why.
func (f *family) optionalPolicy(ctx context.Context, h host.Host) (inboundPolicy, string) {
	p, err := f.policy(ctx, h)
	if err != nil {
		return unknownPolicy{}, "firewall state unavailable: " + err.Error()
	}
	return p, ""
}
