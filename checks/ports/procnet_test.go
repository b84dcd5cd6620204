package ports

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
)

// Lines as Linux 6.1 prints them (x86-64).
const (
	tcpHeader  = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	udpHeader  = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	tcpSample  = tcpHeader +
		"   0: 0100007F:075B 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 6251 1 00000000ce8588eb 100 0 0 10 0\n" +
		"   1: 0500000A:0016 146433C6:C822 01 00000000:00000000 02:000A7B2C 00000000     0        0 20005 4 000000009b4e2f61 20 4 31 10 -1\n" +
		"   2: 0500000A:01BB 156433C6:9C40 06 00000000:00000000 03:000016A8 00000000     0        0 0 3 0000000011e5b3c7\n"
	tcp6Sample = tcp6Header +
		"   0: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5272 1 00000000657a4797 100 0 0 10 0\n" +
		"   1: 0000000000000000FFFF00000302010A:0CEA 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7000 1 0000000000000000 100 0 0 10 0\n" +
		"   2: B80D0120000000000000000007000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1 0000000000000000 100 0 0 10 0\n"
	udpSample = udpHeader +
		"  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12345 2 0000000000000000 0\n"
)

func TestParseProcNet(t *testing.T) {
	le := binary.LittleEndian
	entries, err := parseProcNet(strings.NewReader(tcpSample), false, le)
	if err != nil {
		t.Fatal(err)
	}
	want := []netEntry{
		{local: netip.MustParseAddrPort("127.0.0.1:1883"), remote: netip.MustParseAddrPort("0.0.0.0:0"), state: stateListen, uid: 105, inode: 6251},
		{local: netip.MustParseAddrPort("10.0.0.5:22"), remote: netip.MustParseAddrPort("198.51.100.20:51234"), state: stateEstablished, inode: 20005},
		{local: netip.MustParseAddrPort("10.0.0.5:443"), remote: netip.MustParseAddrPort("198.51.100.21:40000"), state: 0x06},
	}
	if fmt.Sprint(entries) != fmt.Sprint(want) {
		t.Errorf("tcp entries\n got %v\nwant %v", entries, want)
	}

	entries, err = parseProcNet(strings.NewReader(tcp6Sample), true, le)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"[::1]:6379", "[::ffff:10.1.2.3]:3306", "[2001:db8::7]:5432"} {
		if got := entries[i].local; got != netip.MustParseAddrPort(w) {
			t.Errorf("tcp6 line %d local = %v, want %s", i, got, w)
		}
	}
	if entries[1].local.Addr().Is4In6() != true {
		t.Error("IPv4-mapped address lost its mapping")
	}

	entries, err = parseProcNet(strings.NewReader(udpSample), false, le)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].local != netip.MustParseAddrPort("0.0.0.0:68") || entries[0].state != stateClose || entries[0].inode != 12345 {
		t.Errorf("udp entries = %v", entries)
	}

	// A big-endian kernel prints the same address the other way round.
	entries, err = parseProcNet(strings.NewReader(tcpHeader+"   0: 7F000001:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0\n"), false, binary.BigEndian)
	if err != nil || entries[0].local != netip.MustParseAddrPort("127.0.0.1:22") {
		t.Errorf("big-endian entries = %v, %v", entries, err)
	}

	// A header alone (no sockets, or IPv6 without listeners) is an empty table.
	if entries, err := parseProcNet(strings.NewReader(tcpHeader), false, le); err != nil || len(entries) != 0 {
		t.Errorf("header only: %v, %v", entries, err)
	}
}

func TestParseProcNetMalformed(t *testing.T) {
	good := "   0: 0100007F:075B 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 6251 1 00000000ce8588eb 100 0 0 10 0"
	for name, data := range map[string]string{
		"empty":            "",
		"no header":        good + "\n",
		"header typo":      "  sx  local_address\n" + good + "\n",
		"truncated":        tcpHeader + "   0: 0100007F:075B 00000000:0000 0A 00000000:0000\n",
		"slot":             tcpHeader + strings.Replace(good, "0:", "x:", 1) + "\n",
		"slot colon":       tcpHeader + strings.Replace(good, "0:", "0", 1) + "\n",
		"short address":    tcpHeader + strings.Replace(good, "0100007F:", "100007F:", 1) + "\n",
		"ipv6 width":       tcp6Header + good + "\n",
		"non-hex address":  tcpHeader + strings.Replace(good, "0100007F", "0100007G", 1) + "\n",
		"port width":       tcpHeader + strings.Replace(good, ":075B", ":75B", 1) + "\n",
		"no port":          tcpHeader + strings.Replace(good, "0100007F:075B", "0100007F075B", 1) + "\n",
		"state":            tcpHeader + strings.Replace(good, " 0A ", " 0AA ", 1) + "\n",
		"state hex":        tcpHeader + strings.Replace(good, " 0A ", " ZZ ", 1) + "\n",
		"queues":           tcpHeader + strings.Replace(good, "00000000:00000000", "00000000-00000000", 1) + "\n",
		"timer":            tcpHeader + strings.Replace(good, "00:00000000", "00:", 1) + "\n",
		"uid":              tcpHeader + strings.Replace(good, "   105 ", "  -105 ", 1) + "\n",
		"timeout":          tcpHeader + strings.Replace(good, "       0 6251", "       x 6251", 1) + "\n",
		"inode":            tcpHeader + strings.Replace(good, " 6251 ", " 62a1 ", 1) + "\n",
		"inode overflow":   tcpHeader + strings.Replace(good, " 6251 ", " 99999999999999999999999 ", 1) + "\n",
		"uid overflow":     tcpHeader + strings.Replace(good, "   105 ", " 4294967296 ", 1) + "\n",
		"very long line":   tcpHeader + good + strings.Repeat(" 0", 40000) + "\n",
		"remote malformed": tcpHeader + strings.Replace(good, "00000000:0000 0A", "00000000:00000 0A", 1) + "\n",
		"garbage after ok": tcpHeader + good + "\nhello world\n",
		"binary":           tcpHeader + "\x00\x01\x02\n",
	} {
		_, err := parseProcNet(strings.NewReader(data), strings.HasPrefix(data, tcp6Header), binary.LittleEndian)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: error %v does not wrap ErrParse", name, err)
		}
	}
}

// formatProcNet writes entries back in the kernel's format (little-endian words).
func formatProcNet(entries []netEntry, ipv6 bool) string {
	var b strings.Builder
	b.WriteString(tcpHeader)
	for i, e := range entries {
		fmt.Fprintf(&b, "%4d: %s %s %02X 00000000:00000000 00:00000000 00000000 %5d %8d %d\n",
			i, hexAddrPort(e.local, ipv6), hexAddrPort(e.remote, ipv6), e.state, e.uid, 0, e.inode)
	}
	return b.String()
}

// hexAddrPort encodes an address as the kernel prints it on a little-endian host.
func hexAddrPort(ap netip.AddrPort, ipv6 bool) string {
	var raw []byte
	if ipv6 {
		a := ap.Addr().As16()
		raw = a[:]
	} else {
		a := ap.Addr().Unmap().As4()
		raw = a[:]
	}
	var b strings.Builder
	for i := 0; i < len(raw); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.LittleEndian.Uint32(raw[i:]))
	}
	fmt.Fprintf(&b, ":%04X", ap.Port())
	return b.String()
}

func TestHexRoundTrip(t *testing.T) {
	for _, s := range []string{"127.0.0.1:22", "203.0.113.7:12375", "[::1]:6379", "[2001:db8::7]:5432", "[::ffff:10.1.2.3]:3306", "[fe80::1]:546"} {
		ap := netip.MustParseAddrPort(s)
		ipv6 := ap.Addr().Is6()
		got, err := parseHexAddrPort(hexAddrPort(ap, ipv6), ipv6, binary.LittleEndian)
		if err != nil || got != ap {
			t.Errorf("round trip of %s: %v, %v", s, got, err)
		}
	}
}

// FuzzProcNet feeds arbitrary tables to the parser: it must never panic, must report every
// failure as a parse error, and what it accepts must survive a format/parse round trip.
func FuzzProcNet(f *testing.F) {
	f.Add([]byte(tcpSample), false)
	f.Add([]byte(tcp6Sample), true)
	f.Add([]byte(udpSample), false)
	f.Add([]byte(tcpHeader), false)
	f.Add([]byte(tcpHeader+"   0: 0100007F:075B 00000000:0000 0A 00000000:0000\n"), false)
	f.Add([]byte(""), true)
	f.Fuzz(func(t *testing.T, data []byte, ipv6 bool) {
		entries, err := parseProcNet(bytes.NewReader(data), ipv6, binary.LittleEndian)
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		again, err := parseProcNet(strings.NewReader(formatProcNet(entries, ipv6)), ipv6, binary.LittleEndian)
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if fmt.Sprint(again) != fmt.Sprint(entries) {
			t.Fatalf("round trip changed the entries\n got %v\nwant %v", again, entries)
		}
	})
}
