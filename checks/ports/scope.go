package ports

import "net/netip"

// scope is how widely a bound address can be reached. Its string form is the value of the
// scope facts; the numeric order ranks breadth (a listener bound on several addresses takes
// the widest).
type scope int

// Scopes, narrowest first.
const (
	// scopeLoopback: 127.0.0.0/8 or ::1, reachable from this host only.
	scopeLoopback scope = iota
	// scopePrivate: an address of a private, shared or link-local range (RFC 1918,
	// 100.64.0.0/10, 169.254.0.0/16, fc00::/7, fe80::/10), or a multicast/broadcast group,
	// none of which the internet routes to the host.
	scopePrivate
	// scopePublic: any other specific address.
	scopePublic
	// scopeAny: the wildcard address 0.0.0.0 or ::, every address the host has, now and later.
	scopeAny
)

func (s scope) String() string {
	switch s {
	case scopeLoopback:
		return "loopback"
	case scopePrivate:
		return "private"
	case scopePublic:
		return "public"
	case scopeAny:
		return "any"
	}
	return "other"
}

// broad reports whether the scope may reach the internet (any or public).
func (s scope) broad() bool { return s == scopeAny || s == scopePublic }

// privateRanges are the ranges classified as private (immutable).
var privateRanges = privatePrefixes()

// privatePrefixes returns the ranges classified as private.
func privatePrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", // RFC 1918
		"100.64.0.0/10",  // RFC 6598 shared address space (carrier-grade NAT, Tailscale)
		"169.254.0.0/16", // IPv4 link-local
		"fc00::/7",       // unique local addresses
		"fe80::/10",      // IPv6 link-local
	} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

// scopeOf classifies a local address. IPv4-mapped IPv6 addresses are classified by their
// IPv4 address.
func scopeOf(a netip.Addr) scope {
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return scopeAny
	case a.IsLoopback():
		return scopeLoopback
	case a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return scopePrivate
	}
	for _, p := range privateRanges {
		if p.Contains(a) {
			return scopePrivate
		}
	}
	return scopePublic
}
