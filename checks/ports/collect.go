package ports

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
)

// socket is one listening socket: a TCP socket in LISTEN or a bound, unconnected UDP socket.
type socket struct {
	// proto is "tcp" or "udp".
	proto string
	// ipv6 is true for sockets read from tcp6/udp6, IPv4-mapped addresses included.
	ipv6 bool
	addr netip.Addr
	port int
	// scope classifies addr.
	scope scope
	// dual is true for a wildcard IPv6 socket assumed to accept IPv4 as well (see
	// inventory.bindV6Only).
	dual  bool
	uid   uint32
	inode uint64
	// owner says whether proc is known.
	owner ownerState
	proc  *process
}

// families reports which IP versions reach the socket.
func (s socket) families() (v4, v6 bool) {
	if s.addr.Is4() || s.addr.Is4In6() {
		return true, false
	}
	return s.dual, true
}

// ownerState says what is known about the process holding a socket.
type ownerState int

const (
	// ownerUnknown: no readable process holds it, but some processes' descriptors could
	// not be read (not root).
	ownerUnknown ownerState = iota
	// ownerFound: proc is set.
	ownerFound
	// ownerNone: every visible process was read and none holds it: a kernel socket, or a
	// process in another PID namespace.
	ownerNone
)

// inventory is what the collector found, shared by every check of the family.
type inventory struct {
	sockets []socket
	// unreadable counts the processes whose descriptors could not be read.
	unreadable int
	// bindV6Only is net.ipv6.bindv6only, the default of IPV6_V6ONLY. /proc/net does not show
	// the per-socket flag; a wildcard IPv6 socket is assumed to follow the default unless an
	// IPv4 socket holds the same port (then it cannot be dual-stack).
	bindV6Only bool
	// ephemeral is the local port range; unconnected UDP sockets there whose port the
	// tables do not name are client sockets, not services, and are left out (skipped
	// counts them).
	ephemeralLo, ephemeralHi int
	skipped                  int
}

// procNetTable is a socket table to read.
type procNetTable struct {
	name, proto string
	ipv6        bool
	// must is false for the IPv6 tables, absent when IPv6 is disabled.
	must bool
}

// procNetTables lists the socket tables read.
func procNetTables() []procNetTable {
	return []procNetTable{
		{"/net/tcp", "tcp", false, true},
		{"/net/tcp6", "tcp", true, false},
		{"/net/udp", "udp", false, true},
		{"/net/udp6", "udp", true, false},
	}
}

// newCollector returns the per-host memo of the listening sockets.
func newCollector() *checks.Memo[*inventory] {
	return checks.NewMemo(collect)
}

// collect reads the socket tables and attributes every listening socket to its process.
func collect(ctx context.Context, h host.Host) (*inventory, error) {
	proc, err := h.Proc()
	if err != nil {
		return nil, err
	}
	inv := &inventory{ephemeralLo: 32768, ephemeralHi: 60999}
	if v, err := hostinfo.Sysctl(proc, "net.ipv6.bindv6only"); err == nil {
		inv.bindV6Only = v != 0
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if lo, hi, err := readPortRange(proc); err == nil {
		inv.ephemeralLo, inv.ephemeralHi = lo, hi
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tables, err := readTables(proc)
	if err != nil {
		return nil, err
	}
	for i, f := range procNetTables() {
		for _, e := range tables[i] {
			if s, ok := inv.listening(f.proto, f.ipv6, e); ok {
				inv.sockets = append(inv.sockets, s)
			}
		}
	}
	markDualStack(inv.sockets, inv.bindV6Only)
	if err := attribute(ctx, proc, inv); err != nil {
		return nil, err
	}
	return inv, nil
}

// readTables reads the socket tables concurrently: the kernel walks its whole connection
// hash for each of tcp and tcp6 (milliseconds on a large machine), so reading them in
// parallel halves the wait. A missing optional table is empty; the first error in table
// order is returned.
func readTables(proc host.FS) ([][]netEntry, error) {
	list := procNetTables()
	tables := make([][]netEntry, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, f := range list {
		wg.Go(func() {
			tables[i], errs[i] = readProcNet(proc, f.name, f.ipv6)
			if errors.Is(errs[i], fs.ErrNotExist) && !f.must {
				errs[i] = nil
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return tables, nil
}

// readProcNet opens and parses one table.
func readProcNet(proc host.FS, name string, ipv6 bool) ([]netEntry, error) {
	f, err := proc.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := parseProcNet(f, ipv6, binary.NativeEndian)
	if err != nil {
		return nil, fmt.Errorf("parse /proc%s: %w", name, err)
	}
	return entries, nil
}

// readPortRange reads net.ipv4.ip_local_port_range ("32768\t60999").
func readPortRange(proc host.FS) (int, int, error) {
	text, err := hostinfo.SysctlString(proc, "net.ipv4.ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(text)
	if len(f) == 2 {
		lo, err1 := strconv.Atoi(f[0])
		hi, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil && lo > 0 && lo <= hi && hi <= 65535 {
			return lo, hi, nil
		}
	}
	return 0, 0, fmt.Errorf("parse sysctl net.ipv4.ip_local_port_range value %q: %w", text, checks.ErrParse)
}

// listening turns a table entry into a listening socket, or reports that it is none: TCP
// sockets in LISTEN; UDP sockets bound to a port and not connected, except client
// sockets (a port in the ephemeral range that no table names).
func (inv *inventory) listening(proto string, ipv6 bool, e netEntry) (socket, bool) {
	port := int(e.local.Port())
	s := socket{proto: proto, ipv6: ipv6, addr: e.local.Addr(), port: port, scope: scopeOf(e.local.Addr()), uid: e.uid, inode: e.inode}
	switch proto {
	case "tcp":
		return s, e.state == stateListen && port != 0
	default:
		if e.state != stateClose || port == 0 || e.remote.Port() != 0 || !e.remote.Addr().IsUnspecified() {
			return s, false
		}
		if port >= inv.ephemeralLo && port <= inv.ephemeralHi {
			if _, named := portServices[protoPort{proto, port}]; !named {
				inv.skipped++
				return s, false
			}
		}
		return s, true
	}
}

// markDualStack sets dual on wildcard IPv6 sockets that accept IPv4 too: with bindv6only 0
// (the kernel default) unless an IPv4 socket holds the same protocol and port, which the
// kernel allows only for an IPV6_V6ONLY socket.
func markDualStack(sockets []socket, bindV6Only bool) {
	if bindV6Only {
		return
	}
	v4 := map[protoPort]bool{}
	for _, s := range sockets {
		if !s.ipv6 {
			v4[protoPort{s.proto, s.port}] = true
		}
	}
	for i := range sockets {
		s := &sockets[i]
		if s.ipv6 && s.addr.IsUnspecified() && !v4[protoPort{s.proto, s.port}] {
			s.dual = true
		}
	}
}
