// Package ssh holds the SSH server checks, evaluated on sshd's effective configuration.
package ssh

import "github.com/securecodehq/server-audit/checks"

// Checks returns every check of the family, in report order.
func Checks() []checks.Check { return nil }
