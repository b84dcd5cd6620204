// Package docker holds the Docker Engine checks: daemon configuration and every container.
package docker

import (
	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
)

// Checks returns every check of the family, in report order; fw is the firewall state
// shared with the firewall family (for published ports that bypass ufw or firewalld).
func Checks(fw *firewall.Collector) []checks.Check { return nil }
