// Package system holds the kernel and account hardening checks: sysctl settings, mount
// options, mandatory access control, CPU mitigations, time synchronisation, credential file
// permissions, privileged accounts, sudo and cron.
//
// Facts are values, counts and booleans only; user names, hashes and file contents stay in
// the local details.
package system

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// Checks returns every check of the family, in report order.
func Checks() []checks.Check {
	var list []checks.Check
	list = append(list, kernelChecks()...)
	list = append(list, accountChecks()...)
	return list
}

// sysctlPath maps a sysctl key ("kernel.randomize_va_space") to its procfs name.
func sysctlPath(key string) string {
	return "/sys/" + strings.ReplaceAll(key, ".", "/")
}

// readSysctl reads an integer sysctl from procfs. A missing key (feature not built into
// the kernel, IPv6 disabled) is an fs.ErrNotExist error.
func readSysctl(proc host.FS, key string) (int64, error) {
	data, err := host.ReadFileLimit(proc, sysctlPath(key), 4096)
	if err != nil {
		return 0, err
	}
	text := strings.TrimSpace(string(data))
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse sysctl %s value %q: %w", key, text, checks.ErrParse)
	}
	return n, nil
}
