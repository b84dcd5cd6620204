package firewall

import (
	"net/netip"
	"slices"
	"strings"
)

// match is how a condition or a rule matches the packets we model: a new connection from an
// arbitrary remote (non-loopback) address to a local port.
type match uint8

const (
	mNo      match = iota // matches none of them
	mYes                  // matches all of them
	mSource               // matches those from some source addresses only
	mUnknown              // cannot be decided (interfaces, marks, undecoded matches)
)

// and combines the conditions of one rule.
func and(a, b match) match {
	switch {
	case a == mNo || b == mNo:
		return mNo
	case a == mUnknown || b == mUnknown:
		return mUnknown
	case a == mSource || b == mSource:
		return mSource
	}
	return mYes
}

// or combines the alternatives of a set.
func or(a, b match) match {
	switch {
	case a == mYes || b == mYes:
		return mYes
	case a == mUnknown || b == mUnknown:
		return mUnknown
	case a == mSource || b == mSource:
		return mSource
	}
	return mNo
}

// negate inverts a match. The complement of a set of sources is taken to contain the
// arbitrary remote address: "not from 10.0.0.0/8" matches it.
func negate(m match) match {
	switch m {
	case mNo, mSource:
		return mYes
	case mYes:
		return mNo
	}
	return mUnknown
}

// anyPort as a packet's port models traffic to a port no specific rule names: a port
// condition matches it only when it covers at least half of the port space.
const anyPort = -1

// halfPorts is the coverage from which a port condition counts as "every port".
const halfPorts = 32768

// packet is the modelled packet: the first packet of a new connection, from an arbitrary
// non-loopback remote address.
type packet struct {
	v6      bool
	proto   string // tcp or udp
	port    int    // destination port, or anyPort
	forward bool   // forwarded (forward hook) rather than delivered locally
}

// l4Names maps protocol numbers and aliases to the names the parsers use.
func l4Name(s string) string {
	s = strings.ToLower(s)
	switch s {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58", "icmpv6", "ipv6-icmp":
		return "ipv6-icmp"
	case "132":
		return "sctp"
	case "33":
		return "dccp"
	case "136":
		return "udplite"
	case "0":
		return "all"
	}
	return s
}

// evalKey matches one key of the packet against one value.
func evalKey(k key, v value, p packet) match {
	if v.kind == valUnknown {
		return mUnknown
	}
	switch k {
	case kIif:
		if v.str == "lo" {
			return mNo
		}
		return mUnknown
	case kOif:
		if !p.forward || v.str == "lo" {
			return mNo
		}
		return mUnknown
	case kL4:
		name := l4Name(v.str)
		if name == "all" || name == p.proto {
			return mYes
		}
		return mNo
	case kNfproto:
		want := "ipv4"
		if p.v6 {
			want = "ipv6"
		}
		if strings.EqualFold(v.str, want) {
			return mYes
		}
		return mNo
	case kEtherProto:
		want := "ip"
		if p.v6 {
			want = "ip6"
		}
		if strings.EqualFold(v.str, want) {
			return mYes
		}
		return mNo
	case kDport:
		if v.kind != valRange {
			return mUnknown
		}
		if p.port == anyPort {
			if v.hi-v.lo+1 >= halfPorts {
				return mYes
			}
			return mNo
		}
		if p.port >= v.lo && p.port <= v.hi {
			return mYes
		}
		return mNo
	case kSaddr4, kSaddr6:
		if v.kind != valPrefix {
			return mSource
		}
		switch {
		case v.prefix.Bits() == 0:
			return mYes
		case isLoopback(v.prefix):
			return mNo
		}
		return mSource
	case kDaddr4, kDaddr6:
		if v.kind != valPrefix {
			return mUnknown
		}
		switch {
		case v.prefix.Bits() == 0:
			return mYes
		case isLoopback(v.prefix) || isMulticastOrBroadcast(v.prefix):
			return mNo
		}
		return mUnknown
	case kCtState:
		if strings.EqualFold(v.str, "new") {
			return mYes
		}
		return mNo
	case kCtStatus:
		switch strings.ToLower(v.str) {
		case "dnat", "snat":
			return mNo
		}
		return mUnknown
	case kDaddrType:
		want := "local"
		if p.forward {
			want = "unicast"
		}
		if strings.EqualFold(v.str, want) {
			return mYes
		}
		return mNo
	case kSaddrType:
		if strings.EqualFold(v.str, "unicast") {
			return mYes
		}
		return mNo
	case kPktType:
		switch strings.ToLower(v.str) {
		case "host", "unicast":
			return mYes
		}
		return mNo
	case kRPF:
		switch strings.ToLower(v.str) {
		case "missing", "0", "false":
			return mNo
		}
		return mUnknown
	case kSourceOpaque:
		return mSource
	case kExtHdr:
		// The modelled packet carries no IPv6 extension header: only "missing" matches.
		if v.str == "false" || v.str == "missing" {
			return mYes
		}
		return mNo
	}
	return mUnknown
}

// familyMismatch reports whether a key only exists for the other address family (an IPv4
// address match never matches an IPv6 packet, negated or not).
func familyMismatch(k key, p packet) bool {
	switch k {
	case kSaddr4, kDaddr4:
		return p.v6
	case kSaddr6, kDaddr6:
		return !p.v6
	}
	return false
}

func isLoopback(p netip.Prefix) bool {
	if p.Addr().Is4() {
		return p.Bits() >= 8 && netip.MustParsePrefix("127.0.0.0/8").Contains(p.Addr())
	}
	return p.Bits() == 128 && p.Addr() == netip.IPv6Loopback()
}

func isMulticastOrBroadcast(p netip.Prefix) bool {
	if p.Addr().Is4() {
		if p.Bits() == 32 && p.Addr() == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return true
		}
		return p.Bits() >= 4 && netip.MustParsePrefix("224.0.0.0/4").Contains(p.Addr())
	}
	return p.Bits() >= 8 && netip.MustParsePrefix("ff00::/8").Contains(p.Addr())
}

// eval matches the condition against the packet.
func (c *cond) eval(p packet) match {
	if len(c.keys) == 0 || c.keys[0] == kFixed {
		return c.fixed
	}
	for _, k := range c.keys {
		if familyMismatch(k, p) {
			return mNo
		}
	}
	if len(c.keys) == 1 && c.keys[0] == kDport && p.port == anyPort && !c.open {
		return c.evalAnyPort()
	}
	m := mNo
	if c.open {
		m = mUnknown
		if slices.ContainsFunc(c.keys, isSourceKey) {
			m = mSource
		}
	} else {
		for _, alt := range c.elems {
			am := mYes
			for i, k := range c.keys {
				if i >= len(alt) {
					am = mUnknown
					break
				}
				am = and(am, evalKey(k, alt[i], p))
			}
			if m = or(m, am); m == mYes {
				break
			}
		}
	}
	if c.neg {
		return negate(m)
	}
	return m
}

func isSourceKey(k key) bool { return k == kSaddr4 || k == kSaddr6 || k == kSourceOpaque }

// evalAnyPort matches a destination port condition against "a port no rule names": it
// matches when it covers at least half the port space (after negation).
func (c *cond) evalAnyPort() match {
	var ranges [][2]int
	for _, alt := range c.elems {
		if len(alt) == 0 || alt[0].kind != valRange {
			return mUnknown
		}
		ranges = append(ranges, [2]int{max(alt[0].lo, 0), min(alt[0].hi, 65535)})
	}
	covered := portCoverage(ranges)
	if c.neg {
		covered = 65536 - covered
	}
	if covered >= halfPorts {
		return mYes
	}
	return mNo
}

// portCoverage counts the ports in the union of inclusive ranges.
func portCoverage(ranges [][2]int) int {
	slices.SortFunc(ranges, func(a, b [2]int) int { return a[0] - b[0] })
	n, end := 0, -1
	for _, r := range ranges {
		if r[1] < r[0] || r[1] <= end {
			continue
		}
		start := max(r[0], end+1)
		n += r[1] - start + 1
		end = r[1]
	}
	return n
}

// match matches all conditions of the rule.
func (r *rule) match(p packet) match {
	m := mYes
	for i := range r.conds {
		if m = and(m, r.conds[i].eval(p)); m == mNo {
			return mNo
		}
	}
	return m
}
