package ports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

func checksPass() checks.Result { return checks.Pass("test") }

// fakePolicy answers def except for the ports listed as "tcp/6379" (both IP versions) or
// "tcp6/6379" (IPv6 only).
type fakePolicy struct {
	def   firewall.Admission
	ports map[string]firewall.Admission
}

func (p fakePolicy) Inbound(ipv6 bool, proto string, port int) firewall.Admission {
	key := fmt.Sprintf("%s/%d", proto, port)
	if ipv6 {
		if a, ok := p.ports[strings.Replace(key, "/", "6/", 1)]; ok {
			return a
		}
	}
	if a, ok := p.ports[key]; ok {
		return a
	}
	return p.def
}

func TestAdmissionOverFamilies(t *testing.T) {
	dual := listener{proto: "tcp", port: 6379, v4: true, v6: true}
	v4 := listener{proto: "tcp", port: 6379, v4: true}
	blocked6 := fakePolicy{def: firewall.Blocked, ports: map[string]firewall.Admission{"tcp6/6379": firewall.Admitted}}
	if got := admission(blocked6, dual); got != firewall.Admitted {
		t.Errorf("dual-stack listener with IPv6 open = %v, want admitted", got)
	}
	if got := admission(blocked6, v4); got != firewall.Blocked {
		t.Errorf("IPv4 listener = %v, want blocked", got)
	}
	mixed := fakePolicy{def: firewall.Restricted, ports: map[string]firewall.Admission{"tcp6/6379": firewall.AdmitUnknown}}
	if got := admission(mixed, dual); got != firewall.AdmitUnknown {
		t.Errorf("restricted + unknown = %v, want unknown", got)
	}
	if got := admission(fakePolicy{def: firewall.Blocked, ports: map[string]firewall.Admission{"tcp/6379": firewall.Restricted}}, dual); got != firewall.Restricted {
		t.Errorf("restricted + blocked = %v, want restricted", got)
	}
}

func coverageInventory() *inventory {
	return testInventory(
		sock("tcp", "0.0.0.0:22", "sshd"),
		sock("tcp", "[::]:22", "sshd"),
		sock("tcp", "0.0.0.0:443", "nginx"),
		sock("udp", "0.0.0.0:68", "dhclient"),
		sock("tcp", "127.0.0.1:5432", "postgres"),
		sock("tcp", "10.0.0.5:6379", "redis-server"),
		sock("tcp", "[::]:9100", "node_exporter"),
		sock("tcp", "0.0.0.0:27017", "docker-proxy"),
	)
}

func TestEvalCoverage(t *testing.T) {
	for _, c := range []struct {
		name   string
		pol    fakePolicy
		status report.Status
		ports  []int64
		fw     []string
	}{
		{"no firewall", fakePolicy{def: firewall.Admitted}, report.StatusFail, []int64{6379, 9100, 27017}, []string{"admitted", "admitted", "admitted"}},
		{"default drop", fakePolicy{def: firewall.Blocked}, report.StatusPass, []int64{6379, 9100, 27017}, []string{"blocked", "blocked", "blocked"}},
		{"source restricted", fakePolicy{def: firewall.Restricted}, report.StatusPass, nil, nil},
		{"unknown everywhere", fakePolicy{def: firewall.AdmitUnknown}, report.StatusSkip, nil, nil},
		{"partly unknown", fakePolicy{def: firewall.Blocked, ports: map[string]firewall.Admission{"tcp/9100": firewall.AdmitUnknown}}, report.StatusPass, nil, []string{"blocked", "unknown", "blocked"}},
		{"ipv6 hole", fakePolicy{def: firewall.Blocked, ports: map[string]firewall.Admission{"tcp6/9100": firewall.Admitted}}, report.StatusFail, nil, []string{"blocked", "admitted", "blocked"}},
		{"public services only open", fakePolicy{def: firewall.Blocked, ports: map[string]firewall.Admission{"tcp/22": firewall.Admitted, "tcp/443": firewall.Admitted, "udp/68": firewall.Admitted}}, report.StatusPass, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := evalCoverage(coverageInventory(), c.pol)
			if res.Status != c.status {
				t.Fatalf("status %s, want %s (%s)", res.Status, c.status, res.Message)
			}
			if c.ports != nil && !slices.Equal(res.Facts["ports"].([]int64), c.ports) {
				t.Errorf("ports = %v, want %v (public services and loopback are not judged)", res.Facts["ports"], c.ports)
			}
			if c.fw != nil && !slices.Equal(res.Facts["firewall"].([]string), c.fw) {
				t.Errorf("firewall = %v, want %v", res.Facts["firewall"], c.fw)
			}
			if c.status == report.StatusSkip && res.Reason != report.ReasonNotSupported {
				t.Errorf("reason %s, want not_supported", res.Reason)
			}
		})
	}
	res := evalCoverage(testInventory(sock("tcp", "0.0.0.0:22", "sshd"), sock("tcp", "127.0.0.1:6379", "redis-server")), fakePolicy{def: firewall.Admitted})
	if res.Status != report.StatusPass {
		t.Errorf("SSH and a loopback Redis: %s, want pass", res.Status)
	}
	res = evalCoverage(coverageInventory(), fakePolicy{def: firewall.Admitted})
	if !slices.ContainsFunc(res.Details, func(d string) bool { return strings.Contains(d, "docker-proxy") && strings.Contains(d, "NAT") }) {
		t.Errorf("no docker-proxy caveat in %q", res.Details)
	}
}

// familyWith builds a family over a fixed inventory and policy source.
func familyWith(inv *inventory, pol policySource) *family {
	return &family{
		inv:    checks.NewMemo(func(context.Context, host.Host) (*inventory, error) { return inv, nil }),
		policy: pol,
	}
}

func TestCoverageFirewallError(t *testing.T) {
	for _, c := range []struct {
		err    error
		status report.Status
		reason report.Reason
	}{
		{fmt.Errorf("parse nft output: %w", checks.ErrParse), report.StatusError, report.ReasonParseError},
		{fmt.Errorf("run nft: %w", host.ErrTimeout), report.StatusError, report.ReasonTimeout},
		{fmt.Errorf("run nft: %w", host.ErrNotLive), report.StatusSkip, report.ReasonNotLive},
	} {
		f := familyWith(coverageInventory(), func(context.Context, host.Host) (inboundPolicy, error) { return nil, c.err })
		res, err := coverageCheck{f}.Run(context.Background(), nil)
		if err != nil || res.Status != c.status || res.Reason != c.reason {
			t.Errorf("firewall error %v: %s/%s, %v; want %s/%s", c.err, res.Status, res.Reason, err, c.status, c.reason)
		}
		// The checks that only refine their verdict with the firewall still judge.
		res, _ = datastoresCheck{f}.Run(context.Background(), nil)
		if res.Status != report.StatusFail || res.Severity != catalog.SeverityHigh ||
			!slices.ContainsFunc(res.Details, func(d string) bool { return strings.Contains(d, "firewall state unavailable") }) {
			t.Errorf("datastores with a firewall error: %s/%s %q", res.Status, res.Severity, res.Details)
		}
	}
}

func TestEvalDatastoresSeverity(t *testing.T) {
	admitted := fakePolicy{def: firewall.Admitted}
	restricted := fakePolicy{def: firewall.Restricted}
	for _, c := range []struct {
		name string
		inv  *inventory
		pol  inboundPolicy
		sev  catalog.Severity // "" = catalog maximum (critical)
	}{
		{"redis on any, admitted", testInventory(sock("tcp", "0.0.0.0:6379", "redis-server")), admitted, ""},
		{"redis on any, restricted", testInventory(sock("tcp", "0.0.0.0:6379", "redis-server")), restricted, catalog.SeverityHigh},
		{"redis on any, unknown", testInventory(sock("tcp", "0.0.0.0:6379", "redis-server")), unknownPolicy{}, catalog.SeverityHigh},
		{"redis private, admitted", testInventory(sock("tcp", "10.0.0.5:6379", "redis-server")), admitted, catalog.SeverityHigh},
		{"mongodb public, admitted", testInventory(sock("tcp", "203.0.113.7:27017", "mongod")), admitted, ""},
		{"memcached udp, admitted", testInventory(sock("udp", "0.0.0.0:11211", "memcached")), admitted, ""},
		{"elasticsearch via java, admitted", testInventory(sock("tcp", "[::]:9200", "java")), admitted, ""},
		{"postgres on any, admitted", testInventory(sock("tcp", "0.0.0.0:5432", "postgres")), admitted, catalog.SeverityHigh},
	} {
		res := evalDatastores(c.inv, c.pol, "")
		if res.Status != report.StatusFail || res.Severity != c.sev {
			t.Errorf("%s: %s severity %q, want fail %q", c.name, res.Status, res.Severity, c.sev)
		}
	}
	res := evalDatastores(testInventory(sock("tcp", "127.0.0.1:6379", "redis-server"), sock("tcp", "[::1]:6379", "redis-server")), admitted, "")
	if res.Status != report.StatusPass || len(res.Details) != 1 {
		t.Errorf("loopback Redis: %s %q", res.Status, res.Details)
	}
}

func TestEvalControlPlanes(t *testing.T) {
	kubelet := func(addr string) *inventory { return testInventory(sock("tcp", addr, "kubelet")) }
	for _, c := range []struct {
		name string
		inv  *inventory
		pol  inboundPolicy
		want report.Status
	}{
		{"any, admitted", kubelet("0.0.0.0:10250"), fakePolicy{def: firewall.Admitted}, report.StatusFail},
		{"any, unknown", kubelet("0.0.0.0:10250"), unknownPolicy{}, report.StatusFail},
		{"any, restricted", kubelet("0.0.0.0:10250"), fakePolicy{def: firewall.Restricted}, report.StatusPass},
		{"any, blocked", kubelet("0.0.0.0:10250"), fakePolicy{def: firewall.Blocked}, report.StatusPass},
		{"private, admitted", kubelet("10.0.0.5:10250"), fakePolicy{def: firewall.Admitted}, report.StatusPass},
		{"loopback", kubelet("127.0.0.1:10248"), fakePolicy{def: firewall.Admitted}, report.StatusPass},
		{"etcd public", testInventory(sock("tcp", "203.0.113.7:2379", "etcd")), fakePolicy{def: firewall.Admitted}, report.StatusFail},
	} {
		if res := evalControlPlanes(c.inv, c.pol, ""); res.Status != c.want {
			t.Errorf("%s: %s, want %s (%s)", c.name, res.Status, c.want, res.Message)
		}
	}
}

func TestEvalCleartextSeverity(t *testing.T) {
	res := evalCleartext(testInventory(sock("tcp", "0.0.0.0:143", "dovecot"), sock("tcp", "0.0.0.0:993", "dovecot")))
	if res.Status != report.StatusFail || res.Severity != catalog.SeverityMedium {
		t.Errorf("IMAP alone: %s %q, want fail medium", res.Status, res.Severity)
	}
	res = evalCleartext(testInventory(sock("tcp", "0.0.0.0:143", "dovecot"), sock("tcp", "10.0.0.5:21", "vsftpd")))
	if res.Status != report.StatusFail || res.Severity != "" {
		t.Errorf("IMAP and FTP: %s %q, want fail high", res.Status, res.Severity)
	}
	res = evalCleartext(testInventory(sock("tcp", "127.0.0.1:23", "in.telnetd"), sock("tcp", "0.0.0.0:22", "sshd")))
	if res.Status != report.StatusPass {
		t.Errorf("loopback telnet: %s", res.Status)
	}
}

func TestEvalRemoteAccessAndMTA(t *testing.T) {
	if res := evalRemoteAccess(testInventory(sock("tcp", "192.168.1.10:445", "smbd"))); res.Status != report.StatusPass {
		t.Errorf("LAN SMB: %s", res.Status)
	}
	if res := evalRemoteAccess(testInventory(sock("tcp", "[::]:5901", "Xtigervnc"))); res.Status != report.StatusFail {
		t.Errorf("VNC on [::]: %s", res.Status)
	}
	if res := evalMTA(testInventory(sock("tcp", "10.0.0.5:587", "master"))); res.Status != report.StatusFail {
		t.Errorf("submission on a private address: %s", res.Status)
	}
	if res := evalMTA(testInventory(sock("tcp", "127.0.0.1:25", "master"), sock("tcp", "[::1]:25", "master"))); res.Status != report.StatusPass {
		t.Errorf("local-only Postfix: %s", res.Status)
	}
}

func TestEvalDockerAPI(t *testing.T) {
	inv := testInventory(sock("tcp", "0.0.0.0:2375", "dockerd"), sock("tcp", "[::]:2376", "dockerd"))
	ls := dockerListeners(inv.exposed())
	if len(ls) != 2 {
		t.Fatalf("docker listeners = %v", ls)
	}
	if res := evalDockerAPI(ls, tlsEvidence{verify: true}); res.Status != report.StatusFail || !strings.Contains(res.Message, "2375") || strings.Contains(res.Message, "2376") {
		t.Errorf("2375 with TLS verification configured: %s %q, want a failure naming 2375 only", res.Status, res.Message)
	}
	if res := evalDockerAPI(ls[1:], tlsEvidence{verify: true}); res.Status != report.StatusPass {
		t.Errorf("2376 with TLS verification: %s", res.Status)
	}
	if res := evalDockerAPI(ls[1:], tlsEvidence{}); res.Status != report.StatusFail {
		t.Errorf("2376 without TLS verification: %s", res.Status)
	}
	other := dockerListeners(testInventory(sock("tcp", "10.0.0.5:12375", "dockerd"), sock("tcp", "0.0.0.0:8080", "nginx")).exposed())
	if len(other) != 1 || other[0].port != 12375 {
		t.Errorf("dockerd on another port: %v", other)
	}
}

func TestEvalInventory(t *testing.T) {
	inv := testInventory(
		sock("tcp", "0.0.0.0:80", "nginx"), sock("tcp", "0.0.0.0:80", "nginx"), // SO_REUSEPORT pair
		sock("tcp", "[::1]:25", "master"),
		sock("udp", "10.0.0.5:2049", "-"),
		sock("tcp", "203.0.113.7:8443", ""),
	)
	inv.unreadable = 3
	res := evalInventory(inv)
	want := map[string]any{"total": int64(4), "any": int64(1), "loopback": int64(1), "private": int64(1), "public": int64(1),
		"tcp": int64(3), "udp": int64(1), "ipv6": int64(1), "unattributed": int64(1), "no_process": int64(1), "owners_complete": false, "exposed": int64(3)}
	for k, v := range want {
		if res.Facts[k] != v {
			t.Errorf("%s = %v, want %v", k, res.Facts[k], v)
		}
	}
	if res.Status != report.StatusPass {
		t.Errorf("status %s", res.Status)
	}
	inv.sockets[0].proc.exeDeleted = true
	if res := evalInventory(inv); res.Status != report.StatusFail || res.Facts["deleted_exe"] != int64(1) {
		t.Errorf("deleted binary: %s %v", res.Status, res.Facts["deleted_exe"])
	}
}

func TestLoadErrorIsReported(t *testing.T) {
	f := &family{
		inv: checks.NewMemo(func(context.Context, host.Host) (*inventory, error) {
			return nil, fmt.Errorf("parse /proc/net/udp: line 2: %w", checks.ErrParse)
		}),
		policy: func(context.Context, host.Host) (inboundPolicy, error) { return nil, errors.New("unused") },
	}
	for _, c := range []checks.Check{cleartextCheck{f}, datastoresCheck{f}, dockerAPICheck{f}, controlPlanesCheck{f}, remoteAccessCheck{f}, mtaCheck{f}, coverageCheck{f}, inventoryCheck{f}} {
		res, err := c.Run(context.Background(), nil)
		if err != nil || res.Status != report.StatusError || res.Reason != report.ReasonParseError {
			t.Errorf("%s: %s/%s, %v", c.ID(), res.Status, res.Reason, err)
		}
	}
}
