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
	list = append(list, platformChecks()...)
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

// maxProcesses bounds the process scan of processNames.
const maxProcesses = 100000

// processNames returns the command names (/proc/<pid>/comm, at most 15 characters) of the
// running processes, with their counts. Processes that exit during the scan are ignored.
func processNames(proc host.FS) (map[string]int, error) {
	entries, err := proc.ReadDir("/")
	if err != nil {
		return nil, err
	}
	names := map[string]int{}
	for i, e := range entries {
		if i >= maxProcesses {
			break
		}
		if e == "" || e[0] < '0' || e[0] > '9' {
			continue
		}
		data, err := host.ReadFileLimit(proc, "/"+e+"/comm", 64)
		if err != nil {
			continue
		}
		names[strings.TrimSpace(string(data))]++
	}
	return names, nil
}
