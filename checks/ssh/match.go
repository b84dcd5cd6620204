package ssh

import (
	"net/netip"
	"strconv"
	"strings"
)

// matchPattern reports whether s matches pattern, where "*" matches any run of characters
// and "?" any one character (OpenSSH match_pattern). The two-pointer algorithm gives the
// same answers as OpenSSH's recursive one without its exponential worst case.
func matchPattern(s, pattern string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && (pattern[pi] == '?' || pattern[pi] == s[si]):
			si++
			pi++
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// maxSubpattern is the size of OpenSSH's subpattern buffer; a longer element makes the whole
// list fail to match.
const maxSubpattern = 1024

// matchPatternList matches s against a comma-separated pattern list in which "!" negates
// an element (OpenSSH match_pattern_list): 1 when a positive element matches and no
// negated one does, -1 when a negated element matches, 0 otherwise. A list of negated
// elements alone therefore never matches. With lower, the patterns are lower-cased.
func matchPatternList(s, list string, lower bool) int {
	got := 0
	for i := 0; i < len(list); {
		negated := false
		if list[i] == '!' {
			negated = true
			i++
		}
		j := i
		for j < len(list) && list[j] != ',' && j-i < maxSubpattern-1 {
			j++
		}
		if j-i >= maxSubpattern-1 {
			return 0
		}
		sub := list[i:j]
		if lower {
			sub = strings.ToLower(sub)
		}
		i = j
		if i < len(list) && list[i] == ',' {
			i++
		}
		if matchPattern(s, sub) {
			if negated {
				return -1
			}
			got = 1
		}
	}
	return got
}

// addrMatchList matches an address against a list of CIDR networks, addresses and
// wildcard patterns, "!" negating (OpenSSH addr_match_list): 1 match, 0 no match, -1
// negated match, -2 malformed list. With addr "" it only validates the list.
func addrMatchList(addr, list string) int {
	var try netip.Addr
	if addr != "" {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return 0
		}
		try = a
	}
	ret := 0
	for _, cp := range strings.Split(list, ",") {
		neg := strings.HasPrefix(cp, "!")
		if neg {
			cp = cp[1:]
		}
		if cp == "" {
			return -2
		}
		prefix, r := parseCIDR(cp)
		matched := false
		switch r {
		case -2:
			return -2
		case 0:
			matched = addr != "" && prefix.Contains(try)
		default:
			matched = addr != "" && matchPattern(addr, cp)
		}
		if matched {
			if neg {
				return -1
			}
			ret = 1
		}
	}
	return ret
}

// parseCIDR parses "address[/len]" as OpenSSH addr_pton_cidr does: 0 and the network when
// it is one, -1 when it is not an address (the element is then a wildcard pattern), -2
// when the mask is too long or host bits are set.
func parseCIDR(s string) (netip.Prefix, int) {
	if len(s) >= 64 {
		return netip.Prefix{}, -1
	}
	host, mask, hasMask := strings.Cut(s, "/")
	bits := -1
	if hasMask {
		if mask == "" || mask[0] < '0' || mask[0] > '9' {
			return netip.Prefix{}, -1
		}
		n, err := strconv.ParseUint(mask, 10, 64)
		if err != nil || n > 128 {
			return netip.Prefix{}, -1
		}
		bits = int(n)
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, -1
	}
	if bits < 0 {
		bits = a.BitLen()
	}
	if bits > a.BitLen() {
		return netip.Prefix{}, -2
	}
	p := netip.PrefixFrom(a, bits)
	if p.Masked().Addr() != a {
		return netip.Prefix{}, -2
	}
	return p, 0
}

// strtonum parses a base-10 integer within [lo, hi] as OpenBSD strtonum does (leading
// whitespace and a sign allowed, nothing after the digits).
func strtonum(s string, lo, hi int64) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// maxInt is C's INT_MAX, the upper bound of sshd's integer options.
const maxInt = 1<<31 - 1

// convtime converts an sshd time value ("90", "1m30s", "2h") to seconds, -1 when invalid
// (OpenSSH convtime).
func convtime(s string) int64 {
	if s == "" {
		return -1
	}
	var total int64
	p := s
	for p != "" {
		// strtol: optional leading whitespace and sign, then digits.
		q := strings.TrimLeft(p, " \t\n\v\f\r")
		neg := false
		if q != "" && (q[0] == '+' || q[0] == '-') {
			neg = q[0] == '-'
			q = q[1:]
		}
		d := 0
		for d < len(q) && q[d] >= '0' && q[d] <= '9' {
			d++
		}
		if d == 0 {
			return -1
		}
		secs, err := strconv.ParseInt(q[:d], 10, 64)
		if err != nil {
			secs = maxInt + 1 // overflow: rejected by the range check below
		}
		if neg && secs != 0 {
			return -1
		}
		q = q[d:]
		mult := int64(1)
		if q != "" {
			switch q[0] {
			case 's', 'S':
			case 'm', 'M':
				mult = 60
			case 'h', 'H':
				mult = 3600
			case 'd', 'D':
				mult = 86400
			case 'w', 'W':
				mult = 604800
			default:
				return -1
			}
			q = q[1:]
		}
		if secs > maxInt/mult {
			return -1
		}
		secs *= mult
		if total > maxInt-secs {
			return -1
		}
		total += secs
		p = q
	}
	return total
}

// scanInts reproduces sscanf(s, "%d:%d:%d"): it returns the numbers read before the first
// mismatch.
func scanInts(s string) []int64 {
	var out []int64
	for k := 0; k < 3; k++ {
		if k > 0 {
			if !strings.HasPrefix(s, ":") {
				break
			}
			s = s[1:]
		}
		t := strings.TrimLeft(s, " \t\n\v\f\r")
		d := 0
		if d < len(t) && (t[d] == '+' || t[d] == '-') {
			d++
		}
		start := d
		for d < len(t) && t[d] >= '0' && t[d] <= '9' {
			d++
		}
		if d == start {
			break
		}
		n, err := strconv.ParseInt(t[:d], 10, 32)
		if err != nil {
			break
		}
		out = append(out, n)
		s = t[d:]
	}
	return out
}
