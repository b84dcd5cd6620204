// Package system holds the kernel and account hardening checks: sysctl settings, mount
// options, mandatory access control, CPU mitigations, time synchronisation, credential file
// permissions, privileged accounts, sudo and cron.
//
// Facts are values, counts and booleans only; user names, hashes and file contents stay in
// the local details.
package system

import (
	"github.com/securecodehq/server-audit/checks"
)

// Checks returns every check of the family, in report order.
func Checks() []checks.Check {
	var list []checks.Check
	list = append(list, kernelChecks()...)
	list = append(list, platformChecks()...)
	list = append(list, accountChecks()...)
	return list
}
