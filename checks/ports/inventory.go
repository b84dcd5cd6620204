package ports

import (
	"context"
	"net/netip"
	"slices"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// maxInventoryListed bounds the list facts of the inventory (its catalog max_items).
const maxInventoryListed = 256

// inventoryCheck is ports.inventory, an informational check: counts of listening sockets by
// scope, protocol and IP version, and the listeners reachable beyond loopback, for the
// report. It passes, except when a listening program runs a binary that was deleted (an
// upgrade without a restart, or a program that removed itself) or from a world-writable
// temporary directory: then it fails, at info severity, so that someone looks.
type inventoryCheck struct{ f *family }

// ID implements checks.Check.
func (inventoryCheck) ID() string { return "ports.inventory" }

// Run implements checks.Check.
func (c inventoryCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	return evalInventory(inv), nil
}

// binding is a distinct bound address: sockets sharing one (SO_REUSEPORT workers) count once.
type binding struct {
	proto string
	ipv6  bool
	addr  netip.AddrPort
}

func evalInventory(inv *inventory) checks.Result {
	seen := map[binding]bool{}
	byScope := map[scope]int64{}
	var tcp, udp, ipv6, unknown, none int64
	for _, s := range inv.sockets {
		b := binding{s.proto, s.ipv6, netip.AddrPortFrom(s.addr, uint16(s.port))}
		if seen[b] {
			continue
		}
		seen[b] = true
		byScope[s.scope]++
		if s.proto == "tcp" {
			tcp++
		} else {
			udp++
		}
		if s.ipv6 {
			ipv6++
		}
		switch s.owner {
		case ownerUnknown:
			unknown++
		case ownerNone:
			none++
		}
	}
	exposed := inv.exposed()
	var suspicious []listener
	var deleted, temp, container int64
	all := groupListeners(inv.sockets, func(socket) bool { return true })
	for _, l := range all {
		if l.proc == nil {
			continue
		}
		if l.proc.container {
			container++
		}
		switch {
		case l.proc.exeDeleted:
			deleted++
		case l.proc.tempExe():
			temp++
		default:
			continue
		}
		suspicious = append(suspicious, l)
	}
	total := int64(len(seen))
	var res checks.Result
	if len(suspicious) == 0 {
		res = checks.Pass("%d listening socket(s): %d on loopback, %d on any address, %d private, %d public; %d listener(s) beyond loopback",
			total, byScope[scopeLoopback], byScope[scopeAny], byScope[scopePrivate], byScope[scopePublic], len(exposed))
	} else {
		res = checks.Fail("%d listener(s) held by a program running a deleted binary or from a temporary directory: %s",
			len(suspicious), summary(suspicious))
	}
	res = res.Int("total", total).
		Int("loopback", byScope[scopeLoopback]).Int("any", byScope[scopeAny]).
		Int("private", byScope[scopePrivate]).Int("public", byScope[scopePublic]).
		Int("tcp", tcp).Int("udp", udp).Int("ipv6", ipv6).
		Int("unattributed", unknown).Int("no_process", none).Int("in_container", container).
		Int("deleted_exe", deleted).Int("temp_exe", temp).
		Bool("owners_complete", inv.unreadable == 0)
	res = withListeners(res, exposed, maxInventoryListed)
	res = withDetails(res, all, nil)
	if inv.unreadable > 0 {
		res = res.Detail("the descriptors of %d process(es) could not be read: their sockets show no process; run as root to attribute every socket", inv.unreadable)
	}
	if inv.skipped > 0 {
		res = res.Detail("%d unconnected UDP socket(s) on ephemeral ports (%d-%d) left out as client sockets", inv.skipped, inv.ephemeralLo, inv.ephemeralHi)
	}
	if slices.ContainsFunc(inv.sockets, func(s socket) bool { return s.dual }) {
		res = res.Detail("IPv6 wildcard sockets are counted as reachable over IPv4 too: /proc/net does not show IPV6_V6ONLY, and net.ipv6.bindv6only is 0")
	}
	return res
}
