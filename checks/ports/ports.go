// Package ports holds the listening-socket checks: what the host exposes to the network and
// whether the firewall covers it.
package ports

import (
	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
)

// Checks returns every check of the family, in report order; fw is the firewall state
// shared with the firewall family.
func Checks(fw *firewall.Collector) []checks.Check { return nil }
