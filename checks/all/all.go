// Package all lists every check family built into the agent, explicitly: adding a family
// means adding a line here, not an init() side effect.
package all

import (
	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/docker"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/nginx"
	"github.com/securecodehq/server-audit/checks/packages"
	"github.com/securecodehq/server-audit/checks/ports"
	"github.com/securecodehq/server-audit/checks/ssh"
	"github.com/securecodehq/server-audit/checks/system"
)

// Family is a named group of checks.
type Family struct {
	// Name is the ID prefix of the family's checks.
	Name string
	// Checks lists the family's checks in report order.
	Checks []checks.Check
}

// Families returns every family in report order. State that several families read (the
// firewall) is collected once and shared.
func Families() []Family {
	fw := firewall.NewCollector()
	return []Family{
		{Name: "system", Checks: system.Checks()},
		{Name: "ssh", Checks: ssh.Checks()},
		{Name: "firewall", Checks: firewall.Checks(fw)},
		{Name: "ports", Checks: ports.Checks(fw)},
		{Name: "nginx", Checks: nginx.Checks()},
		{Name: "docker", Checks: docker.Checks(fw)},
		{Name: "packages", Checks: packages.Checks()},
	}
}

// Checks returns every check of every family in report order.
func Checks() []checks.Check {
	var list []checks.Check
	for _, f := range Families() {
		list = append(list, f.Checks...)
	}
	return list
}
