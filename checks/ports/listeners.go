package ports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
)

// listener is every listening socket of one protocol and port, however many addresses it
// is bound to: the unit the checks judge and report.
type listener struct {
	proto string
	port  int
	// scope is the widest scope of the sockets.
	scope scope
	// v4 and v6 say which IP versions reach the port.
	v4, v6 bool
	// service names what runs there (svcOther when unidentified).
	service string
	// owner and proc describe the program holding the widest-bound socket, uid its
	// owner's user ID as the socket table shows it.
	owner ownerState
	proc  *process
	uid   uint32
	// sockets are the individual sockets, in table order.
	sockets []socket
}

// comm is the program name, "" when unknown.
func (l listener) comm() string {
	if l.proc == nil {
		return ""
	}
	return l.proc.comm
}

// processEnum is the fact value naming the program.
func (l listener) processEnum() string { return processEnum(l.comm(), l.owner) }

// label is "redis 6379/tcp".
func (l listener) label() string { return fmt.Sprintf("%s %d/%s", l.service, l.port, l.proto) }

// groupListeners groups the sockets keep accepts by protocol and port, sorted by port and
// protocol.
func groupListeners(sockets []socket, keep func(socket) bool) []listener {
	byKey := map[protoPort]*listener{}
	var order []protoPort
	for _, s := range sockets {
		if !keep(s) {
			continue
		}
		k := protoPort{s.proto, s.port}
		l := byKey[k]
		if l == nil {
			l = &listener{proto: s.proto, port: s.port, scope: s.scope}
			byKey[k] = l
			order = append(order, k)
		}
		l.sockets = append(l.sockets, s)
		l.scope = max(l.scope, s.scope)
		v4, v6 := s.families()
		l.v4, l.v6 = l.v4 || v4, l.v6 || v6
	}
	out := make([]listener, 0, len(order))
	for _, k := range order {
		l := byKey[k]
		rep := representative(l.sockets)
		l.owner, l.proc, l.uid = rep.owner, rep.proc, rep.uid
		l.service = identifyService(l.proto, l.port, l.comm())
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b listener) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.proto, b.proto))
	})
	return out
}

// representative picks the socket that names a listener's program: the widest-bound one
// whose owner is known, else the widest-bound one.
func representative(sockets []socket) socket {
	best := sockets[0]
	for _, s := range sockets[1:] {
		known, bestKnown := s.owner == ownerFound, best.owner == ownerFound
		if (known && !bestKnown) || (known == bestKnown && s.scope > best.scope) {
			best = s
		}
	}
	return best
}

// exposed returns the listeners reachable from beyond this host (any socket not on
// loopback).
func (inv *inventory) exposed() []listener {
	return groupListeners(inv.sockets, func(s socket) bool { return s.scope != scopeLoopback })
}

// local returns the listeners bound to loopback only.
func (inv *inventory) local() []listener {
	exposed := map[protoPort]bool{}
	for _, s := range inv.sockets {
		if s.scope != scopeLoopback {
			exposed[protoPort{s.proto, s.port}] = true
		}
	}
	return groupListeners(inv.sockets, func(s socket) bool { return !exposed[protoPort{s.proto, s.port}] })
}

// ofServices keeps the listeners whose service is in services.
func ofServices(ls []listener, services ...string) []listener {
	return slices.DeleteFunc(slices.Clone(ls), func(l listener) bool { return !slices.Contains(services, l.service) })
}

// maxListed bounds the list facts of the judging checks (the catalog's default max_items).
const maxListed = 64

// withListeners adds the listener facts: the count and, item by item, parallel lists of
// port, protocol, scope, service and program. Lists hold at most limit items; the count
// is exact.
func withListeners(r checks.Result, ls []listener, limit int) checks.Result {
	r = r.Int("exposed", int64(len(ls)))
	var ports []int64
	var protocols, scopes, services, procs []string
	for i, l := range ls {
		if i >= limit {
			break
		}
		ports = append(ports, int64(l.port))
		protocols = append(protocols, l.proto)
		scopes = append(scopes, l.scope.String())
		services = append(services, l.service)
		procs = append(procs, l.processEnum())
	}
	if len(ls) == 0 {
		return r
	}
	return r.Ints("ports", ports).Enums("protocols", protocols).Enums("scopes", scopes).
		Enums("services", services).Enums("processes", procs)
}

// withDetails adds one local detail line per listener.
func withDetails(r checks.Result, ls []listener, note func(listener) string) checks.Result {
	for _, l := range ls {
		line := describeListener(l)
		if note != nil {
			if n := note(l); n != "" {
				line += "; " + n
			}
		}
		r = r.Detail("%s", line)
	}
	return r
}

// describeListener is the detail line of a listener: what, where, and who holds it.
func describeListener(l listener) string {
	var addrs []string
	for _, s := range l.sockets {
		a := s.addr.String()
		if s.ipv6 {
			a = "[" + a + "]"
		}
		if s.dual {
			a += " (IPv4 too, assuming net.ipv6.bindv6only=0)"
		}
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	return fmt.Sprintf("%s on %s (%s): %s", l.label(), strings.Join(addrs, ", "), l.scope, describeOwner(l.owner, l.proc, l.uid))
}

// describeOwner names the program holding a socket for the local report.
func describeOwner(o ownerState, p *process, uid uint32) string {
	switch o {
	case ownerUnknown:
		return fmt.Sprintf("socket of uid %d, process unknown (its descriptors are not readable; run as root)", uid)
	case ownerNone:
		return fmt.Sprintf("socket of uid %d, no visible process holds it (a kernel socket, or a process outside this PID namespace)", uid)
	}
	s := fmt.Sprintf("%s (pid %d)", p.comm, p.pid)
	if p.exeDeleted {
		s += fmt.Sprintf(", running the deleted binary %s", p.exe)
	} else if p.tempExe() {
		s += fmt.Sprintf(", running %s from a temporary directory", p.exe)
	}
	if p.container {
		s += ", in a container"
	}
	return s
}

// summary is the short form for messages: "telnet 23/tcp (any), ftp 21/tcp (public)",
// at most four listeners and a count of the rest.
func summary(ls []listener) string {
	var parts []string
	for i, l := range ls {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ls)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", l.label(), l.scope))
	}
	return strings.Join(parts, ", ")
}
