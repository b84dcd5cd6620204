package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// IPResolver finds a request's client address. The client is the TCP peer, unless the peer
// is a configured trusted proxy: then X-Forwarded-For is walked from right to left, skipping
// trusted hops, and the first untrusted address is the client. X-Forwarded-For from any
// other peer is ignored, so a client cannot choose its own address. With no trusted proxies
// configured, the header is never read.
type IPResolver struct {
	trusted []netip.Prefix
}

// NewIPResolver returns a resolver trusting the proxies in trusted.
func NewIPResolver(trusted []netip.Prefix) *IPResolver {
	out := make([]netip.Prefix, 0, len(trusted))
	for _, p := range trusted {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return &IPResolver{trusted: out}
}

func (r *IPResolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the client address of req, or the zero Addr when the peer address does
// not parse (which net/http never produces for TCP connections).
func (r *IPResolver) Resolve(req *http.Request) netip.Addr {
	peer := parseHop(req.RemoteAddr)
	if !peer.IsValid() || !r.isTrusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range req.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHop(hops[i])
		if !a.IsValid() {
			// Nothing left of an unparsable hop can be trusted: the client is the last
			// address a trusted hop vouched for.
			break
		}
		client = a
		if !r.isTrusted(a) {
			break
		}
	}
	return client
}

// parseHop parses one address as found in RemoteAddr or an X-Forwarded-For entry: a bare
// address, "ip:port" or "[ipv6]:port". Zones are refused; IPv4-mapped addresses become IPv4.
func parseHop(s string) netip.Addr {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}
	}
	return a.Unmap()
}
