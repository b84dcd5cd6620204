// Package nginx holds the Nginx checks, evaluated on the effective configuration.
package nginx

import "github.com/securecodehq/server-audit/checks"

// Checks returns every check of the family, in report order.
func Checks() []checks.Check { return nil }
