// Package firewall holds the host firewall checks. It reads every backend (nftables,
// iptables and ip6tables with both the nf_tables and legacy backends, ufw, firewalld) and
// judges them together.
package firewall

import (
	"context"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// State is what the host firewall does, combined over every backend.
type State struct{}

// Collector reads the firewall state once per host and shares it among the checks of this
// family and the ports family.
type Collector = checks.Memo[*State]

// NewCollector returns a Collector.
func NewCollector() *Collector {
	return checks.NewMemo(func(context.Context, host.Host) (*State, error) { return &State{}, nil })
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

// Inbound reports how new inbound traffic from the network (not loopback) to a local port
// is treated. ipv6 selects the address family, proto is "tcp" or "udp".
func (s *State) Inbound(ipv6 bool, proto string, port int) Admission { return AdmitUnknown }

// Checks returns every check of the family, in report order, sharing c.
func Checks(c *Collector) []checks.Check { return nil }
