package ssh

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/securecodehq/server-audit/checks"
)

// keyAliases maps keys older sshd releases print to the names the checks use.
var keyAliases = map[string]string{
	"pubkeyacceptedkeytypes":    "pubkeyacceptedalgorithms",
	"hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
}

// maxSSHDTLines bounds the output accepted from `sshd -T` (about 120 lines in practice, more
// with long AllowUsers or AcceptEnv lists).
const maxSSHDTLines = 100000

// parseSSHDT parses `sshd -T` output: one "key value" line per setting, keys lower-case,
// list settings (port, hostkey, allowusers …) on repeated lines.
func parseSSHDT(out []byte) (map[string][]string, error) {
	if !utf8.Valid(out) {
		return nil, fmt.Errorf("sshd -T output is not text: %w", checks.ErrParse)
	}
	values := map[string][]string{}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > maxSSHDTLines {
		return nil, fmt.Errorf("sshd -T output has %d lines: %w", len(lines), checks.ErrParse)
	}
	for i, line := range lines {
		if line == "" {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		if !validKey(key) {
			return nil, fmt.Errorf("sshd -T output line %d: unexpected key: %w", i+1, checks.ErrParse)
		}
		if alias, ok := keyAliases[key]; ok {
			key = alias
		}
		values[key] = append(values[key], value)
	}
	for _, required := range []string{"permitrootlogin", "ciphers", "port"} {
		if _, ok := values[required]; !ok {
			return nil, fmt.Errorf("sshd -T output has no %s line: %w", required, checks.ErrParse)
		}
	}
	return values, nil
}

// validKey reports whether k looks like an sshd -T key: lower-case letters and digits.
func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
