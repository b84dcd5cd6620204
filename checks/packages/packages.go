// Package packages holds the installed-package checks: distribution end of life, curated
// vulnerable versions (compared with the distribution's fixed package version by its own
// ordering rules), pending security updates, automatic updates, reboot required, security
// repositories, signature checking and legacy insecure packages.
package packages

import "github.com/securecodehq/server-audit/checks"

// Checks returns every check of the family, in report order.
func Checks() []checks.Check { return nil }
