package ports

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
)

// Socket states printed in the st column of /proc/net/{tcp,udp}*: the kernel's TCP state
// numbers, which UDP sockets reuse (an unconnected UDP socket is TCP_CLOSE).
const (
	stateEstablished = 0x01
	stateClose       = 0x07
	stateListen      = 0x0A
)

// maxProcNetLines bounds the lines read from one /proc/net file. A busy proxy has hundreds
// of thousands of connections; past this the file is refused rather than read for seconds.
const maxProcNetLines = 2_000_000

// netEntry is one parsed line of /proc/net/{tcp,tcp6,udp,udp6}.
type netEntry struct {
	local  netip.AddrPort
	remote netip.AddrPort
	state  uint8
	uid    uint32
	inode  uint64
}

// parseProcNet reads a /proc/net/{tcp,tcp6,udp,udp6} table. ipv6 selects the address width
// (32 hex digits instead of 8); order is the byte order in which the kernel printed each
// 32-bit word of an address (the host's native order: it prints the in-memory __be32 as a
// number). Every line is validated; a malformed one is an error wrapping checks.ErrParse.
func parseProcNet(r io.Reader, ipv6 bool, order binary.ByteOrder) ([]netEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	var out []netEntry
	n := 0
	for sc.Scan() {
		n++
		if n > maxProcNetLines {
			return nil, fmt.Errorf("more than %d lines: %w", maxProcNetLines, checks.ErrParse)
		}
		line := sc.Text()
		if n == 1 {
			if f := strings.Fields(line); len(f) == 0 || f[0] != "sl" {
				return nil, fmt.Errorf("line 1: missing the sl header: %w", checks.ErrParse)
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		e, err := parseNetLine(line, ipv6, order)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("line %d: too long: %w", n+1, checks.ErrParse)
		}
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("empty file: %w", checks.ErrParse)
	}
	return out, nil
}

// parseNetLine parses one socket line:
//
//	sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode [more...]
func parseNetLine(line string, ipv6 bool, order binary.ByteOrder) (netEntry, error) {
	var e netEntry
	f := strings.Fields(line)
	if len(f) < 10 {
		return e, fmt.Errorf("%d fields, want at least 10: %w", len(f), checks.ErrParse)
	}
	sl, ok := strings.CutSuffix(f[0], ":")
	if !ok || !isDigits(sl) {
		return e, fmt.Errorf("slot %q: %w", f[0], checks.ErrParse)
	}
	var err error
	if e.local, err = parseHexAddrPort(f[1], ipv6, order); err != nil {
		return e, fmt.Errorf("local address: %w", err)
	}
	if e.remote, err = parseHexAddrPort(f[2], ipv6, order); err != nil {
		return e, fmt.Errorf("remote address: %w", err)
	}
	st, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil || len(f[3]) != 2 {
		return e, fmt.Errorf("state %q: %w", f[3], checks.ErrParse)
	}
	e.state = uint8(st)
	if !isHexPair(f[4]) || !isHexPair(f[5]) || !isHex(f[6]) {
		return e, fmt.Errorf("queue or timer columns %q %q %q: %w", f[4], f[5], f[6], checks.ErrParse)
	}
	uid, err := strconv.ParseUint(f[7], 10, 32)
	if err != nil {
		return e, fmt.Errorf("uid %q: %w", f[7], checks.ErrParse)
	}
	e.uid = uint32(uid)
	if _, err := strconv.ParseInt(f[8], 10, 64); err != nil {
		return e, fmt.Errorf("timeout %q: %w", f[8], checks.ErrParse)
	}
	if e.inode, err = strconv.ParseUint(f[9], 10, 64); err != nil {
		return e, fmt.Errorf("inode %q: %w", f[9], checks.ErrParse)
	}
	return e, nil
}

// parseHexAddrPort parses "0100007F:0016" (IPv4) or 32 hex digits and a port (IPv6). The
// address is printed as 32-bit words, each in order; the port is a plain hex number.
func parseHexAddrPort(s string, ipv6 bool, order binary.ByteOrder) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	want := 8
	if ipv6 {
		want = 32
	}
	if !ok || len(hexAddr) != want || len(hexPort) != 4 || !isHex(hexAddr) || !isHex(hexPort) {
		return netip.AddrPort{}, fmt.Errorf("%q is not a hex address:port: %w", s, checks.ErrParse)
	}
	port, _ := strconv.ParseUint(hexPort, 16, 16)
	var b [16]byte
	for i := 0; i < want/8; i++ {
		w, _ := strconv.ParseUint(hexAddr[i*8:i*8+8], 16, 32)
		order.PutUint32(b[i*4:], uint32(w))
	}
	var addr netip.Addr
	if ipv6 {
		addr = netip.AddrFrom16(b)
	} else {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// isHexPair reports whether s is "hex:hex" (the queue and timer columns).
func isHexPair(s string) bool {
	a, b, ok := strings.Cut(s, ":")
	return ok && isHex(a) && isHex(b)
}
