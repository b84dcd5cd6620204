package ports

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// sock builds a socket for tests: addr is "0.0.0.0:22" or "[::]:22"; comm "" leaves the
// owner unknown and "-" makes it a socket no process holds.
func sock(proto, addr, comm string) socket {
	ap := netip.MustParseAddrPort(addr)
	s := socket{proto: proto, ipv6: ap.Addr().Is6(), addr: ap.Addr(), port: int(ap.Port()), scope: scopeOf(ap.Addr())}
	switch comm {
	case "":
		s.owner = ownerUnknown
	case "-":
		s.owner = ownerNone
	default:
		s.owner, s.proc = ownerFound, &process{pid: 100 + len(comm), comm: comm}
	}
	return s
}

// testInventory builds an inventory as collect would, with bindv6only 0.
func testInventory(sockets ...socket) *inventory {
	markDualStack(sockets, false)
	return &inventory{sockets: sockets, ephemeralLo: 32768, ephemeralHi: 60999}
}

func TestScopeOf(t *testing.T) {
	for addr, want := range map[string]scope{
		"127.0.0.1": scopeLoopback, "127.1.2.3": scopeLoopback, "::1": scopeLoopback, "::ffff:127.0.0.1": scopeLoopback,
		"0.0.0.0": scopeAny, "::": scopeAny,
		"10.1.2.3": scopePrivate, "172.16.0.1": scopePrivate, "172.31.255.255": scopePrivate, "192.168.1.1": scopePrivate,
		"100.64.0.1": scopePrivate, "100.127.255.254": scopePrivate, "169.254.169.254": scopePrivate,
		"fd00::5": scopePrivate, "fc00::1": scopePrivate, "fe80::1": scopePrivate, "::ffff:10.1.2.3": scopePrivate,
		"224.0.0.251": scopePrivate, "ff02::fb": scopePrivate, "255.255.255.255": scopePrivate,
		"172.32.0.1": scopePublic, "100.128.0.1": scopePublic, "203.0.113.7": scopePublic, "8.8.8.8": scopePublic,
		"2001:db8::7": scopePublic, "::ffff:203.0.113.7": scopePublic,
	} {
		if got := scopeOf(netip.MustParseAddr(addr)); got != want {
			t.Errorf("scopeOf(%s) = %s, want %s", addr, got, want)
		}
	}
}

func TestIdentifyService(t *testing.T) {
	for _, c := range []struct {
		proto string
		port  int
		comm  string
		want  string
	}{
		{"tcp", 22, "", "ssh"},
		{"tcp", 2222, "sshd", "ssh"},
		{"tcp", 23, "sshd", "ssh"}, // an exclusive program wins over the port
		{"tcp", 23, "", "telnet"},
		{"tcp", 23, "inetd", "telnet"},
		{"tcp", 2323, "in.telnetd", "telnet"},
		{"tcp", 443, "nginx", "https"},
		{"tcp", 8081, "nginx", "http"},
		{"tcp", 993, "dovecot", "imaps"},
		{"tcp", 4190, "dovecot", "imap"},
		{"tcp", 9200, "java", "elasticsearch"},
		{"tcp", 12345, "java", "other"},
		{"tcp", 6379, "docker-proxy", "redis"},
		{"tcp", 6380, "redis-server", "redis"},
		{"tcp", 9000, "php-fpm8.2", "fastcgi"},
		{"tcp", 6001, "Xvnc", "x11"},
		{"tcp", 5901, "Xvnc", "vnc"},
		{"tcp", 12375, "dockerd", "docker"},
		{"tcp", 2376, "", "docker-tls"},
		{"udp", 514, "", "syslog"},
		{"tcp", 514, "", "rsh"},
		{"udp", 161, "snmpd", "snmp"},
		{"udp", 11211, "", "memcached"},
		{"tcp", 15432, "sa-listener", "other"},
	} {
		if got := identifyService(c.proto, c.port, c.comm); got != c.want {
			t.Errorf("identifyService(%s, %d, %q) = %s, want %s", c.proto, c.port, c.comm, got, c.want)
		}
	}
}

func TestProcessEnum(t *testing.T) {
	for _, c := range []struct {
		comm  string
		owner ownerState
		want  string
	}{
		{"sshd", ownerFound, "sshd"},
		{"Xvnc", ownerFound, "xvnc"},
		{"node_exporter", ownerFound, "node-exporter"},
		{"php-fpm8.2", ownerFound, "php-fpm"},
		{"my-secret-app", ownerFound, "other"},
		{"", ownerUnknown, "unknown"},
		{"", ownerNone, "none"},
	} {
		if got := processEnum(c.comm, c.owner); got != c.want {
			t.Errorf("processEnum(%q) = %s, want %s", c.comm, got, c.want)
		}
	}
}

func TestGroupListeners(t *testing.T) {
	inv := testInventory(
		sock("tcp", "127.0.0.1:5432", "postgres"),
		sock("tcp", "10.0.0.5:5432", "postgres"),
		sock("tcp", "0.0.0.0:80", "nginx"),
		sock("tcp", "[::]:80", "nginx"),
		sock("tcp", "[::]:9100", "node_exporter"), // alone on its port: dual-stack
		sock("udp", "0.0.0.0:111", "systemd"),
		sock("tcp", "0.0.0.0:111", ""),
		sock("tcp", "[::]:111", "rpcbind"),
	)
	ls := inv.exposed()
	var got []string
	for _, l := range ls {
		got = append(got, fmt.Sprintf("%s %s %v/%v %s", l.label(), l.scope, l.v4, l.v6, l.processEnum()))
	}
	want := []string{
		"http 80/tcp any true/true nginx",
		"rpcbind 111/tcp any true/true rpcbind", // the known owner is preferred
		"rpcbind 111/udp any true/false systemd",
		"postgresql 5432/tcp private true/false postgres",
		"node-exporter 9100/tcp any true/true node-exporter",
	}
	if !slices.Equal(got, want) {
		t.Errorf("exposed listeners\n got %q\nwant %q", got, want)
	}
	if local := inv.local(); len(local) != 0 {
		t.Errorf("local listeners = %v, want none (5432 is also on a private address)", local)
	}
	for _, s := range inv.sockets {
		if s.port == 80 && s.ipv6 && s.dual {
			t.Error("[::]:80 marked dual-stack although 0.0.0.0:80 exists")
		}
	}
}

func TestListening(t *testing.T) {
	inv := &inventory{ephemeralLo: 32768, ephemeralHi: 60999}
	entry := func(local, remote string, state uint8) netEntry {
		return netEntry{local: netip.MustParseAddrPort(local), remote: netip.MustParseAddrPort(remote), state: state, inode: 1}
	}
	for _, c := range []struct {
		proto string
		e     netEntry
		want  bool
	}{
		{"tcp", entry("0.0.0.0:22", "0.0.0.0:0", stateListen), true},
		{"tcp", entry("10.0.0.5:22", "10.0.0.9:50000", stateEstablished), false},
		{"tcp", entry("0.0.0.0:40000", "0.0.0.0:0", stateListen), true}, // LISTEN is explicit, whatever the port
		{"udp", entry("0.0.0.0:68", "0.0.0.0:0", stateClose), true},
		{"udp", entry("0.0.0.0:45678", "0.0.0.0:0", stateClose), false}, // ephemeral client socket
		{"udp", entry("0.0.0.0:51820", "0.0.0.0:0", stateClose), true},  // WireGuard is named
		{"udp", entry("10.0.0.5:53000", "10.0.0.2:53", stateEstablished), false},
		{"udp", entry("10.0.0.5:53000", "10.0.0.2:53", stateClose), false},
		{"udp", entry("0.0.0.0:0", "0.0.0.0:0", stateClose), false},
	} {
		if _, got := inv.listening(c.proto, false, c.e); got != c.want {
			t.Errorf("listening(%s %v) = %v, want %v", c.proto, c.e, got, c.want)
		}
	}
	if inv.skipped != 1 {
		t.Errorf("skipped = %d, want 1", inv.skipped)
	}
}

func TestWithListenersCapsLists(t *testing.T) {
	var ls []listener
	for i := range 70 {
		ls = append(ls, listener{proto: "tcp", port: 1000 + i, scope: scopeAny, service: svcOther, owner: ownerNone})
	}
	res := withListeners(checksPass(), ls, maxListed)
	if res.Facts["exposed"] != int64(70) || len(res.Facts["ports"].([]int64)) != maxListed || len(res.Facts["processes"].([]string)) != maxListed {
		t.Errorf("facts = %v", res.Facts)
	}
}
