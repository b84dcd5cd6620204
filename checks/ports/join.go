package ports

import (
	"context"
	"errors"

	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
)

// inboundPolicy is what the ports checks need of the firewall: how new inbound traffic to
// a local port is treated. *firewall.State implements it; tests use fakes.
type inboundPolicy interface {
	Inbound(ipv6 bool, proto string, port int) firewall.Admission
}

// policySource returns the firewall policy of a host.
type policySource func(ctx context.Context, h host.Host) (inboundPolicy, error)

// fromCollector reads the policy from the firewall family's shared collector.
func fromCollector(fw *firewall.Collector) policySource {
	return func(ctx context.Context, h host.Host) (inboundPolicy, error) {
		st, err := fw.Get(ctx, h)
		if err != nil {
			return nil, err
		}
		if st == nil {
			return nil, errors.New("firewall state unavailable")
		}
		return st, nil
	}
}

// admission is how the firewall treats a listener, over the IP versions that reach it:
// the most open verdict wins (admitted, then unknown, then restricted, then blocked), since
// one open path is enough to reach the service.
func admission(p inboundPolicy, l listener) firewall.Admission {
	var verdicts []firewall.Admission
	if l.v4 {
		verdicts = append(verdicts, p.Inbound(false, l.proto, l.port))
	}
	if l.v6 {
		verdicts = append(verdicts, p.Inbound(true, l.proto, l.port))
	}
	for _, want := range []firewall.Admission{firewall.Admitted, firewall.AdmitUnknown, firewall.Restricted, firewall.Blocked} {
		for _, v := range verdicts {
			if v == want {
				return want
			}
		}
	}
	return firewall.AdmitUnknown
}

// admissionName is the fact value of a verdict.
func admissionName(a firewall.Admission) string {
	switch a {
	case firewall.Admitted:
		return "admitted"
	case firewall.Restricted:
		return "restricted"
	case firewall.Blocked:
		return "blocked"
	}
	return "unknown"
}

// covered reports whether the firewall limits who reaches the port.
func covered(a firewall.Admission) bool {
	return a == firewall.Restricted || a == firewall.Blocked
}

// unknownPolicy answers AdmitUnknown for every port: the stand-in when the firewall state
// could not be read and a check only uses it to refine its verdict.
type unknownPolicy struct{}

func (unknownPolicy) Inbound(bool, string, int) firewall.Admission { return firewall.AdmitUnknown }
