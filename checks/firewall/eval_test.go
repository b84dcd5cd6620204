package firewall

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
)

// probe is one Inbound question and its expected answer.
type probe struct {
	v6    bool
	proto string
	port  int
	want  Admission
}

func (p probe) String() string {
	fam := "ipv4"
	if p.v6 {
		fam = "ipv6"
	}
	return fam + "/" + p.proto + "/" + strconv.Itoa(p.port)
}

func tcp4(port int, want Admission) probe { return probe{false, "tcp", port, want} }
func udp4(port int, want Admission) probe { return probe{false, "udp", port, want} }
func tcp6(port int, want Admission) probe { return probe{true, "tcp", port, want} }
func udp6(port int, want Admission) probe { return probe{true, "udp", port, want} }

// stateOf builds a State holding tables, as the collector would.
func stateOf(tables ...*table) *State {
	return &State{live: true, ruleset: &liveRuleset{tables: tables}}
}

// saveTables parses iptables-save text for a test.
func saveTables(t *testing.T, text string, v6 bool, b backend) []*table {
	t.Helper()
	tables, _, err := parseIptablesSave([]byte(text), v6, b)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return tables
}

func checkProbes(t *testing.T, s *State, probes []probe) {
	t.Helper()
	for _, p := range probes {
		if got := s.Inbound(p.v6, p.proto, p.port); got != p.want {
			t.Errorf("Inbound(%s) = %s, want %s", p, got, p.want)
		}
	}
}

// filter wraps INPUT rules in a filter table with the given INPUT policy.
func filter(policy string, chains string, rules ...string) string {
	return "*filter\n:INPUT " + policy + " [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" + chains +
		strings.Join(rules, "\n") + "\nCOMMIT\n"
}

func TestInboundIptables(t *testing.T) {
	cases := []struct {
		name   string
		v4, v6 string // iptables-save and ip6tables-save text
		probes []probe
	}{
		{
			name:   "no ruleset at all admits everything",
			probes: []probe{tcp4(22, Admitted), udp6(53, Admitted)},
		},
		{
			name: "default drop with SSH open; IPv6 has no rules",
			v4: filter("DROP", "",
				"-A INPUT -i lo -j ACCEPT",
				"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
				"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
			probes: []probe{tcp4(22, Admitted), tcp4(80, Blocked), udp4(22, Blocked), tcp6(80, Admitted)},
		},
		{
			name: "established-only accepts do not admit new connections",
			v4: filter("DROP", "",
				"-A INPUT -p tcp -m tcp --dport 80 -m state --state ESTABLISHED -j ACCEPT",
				"-A INPUT -p tcp -m tcp --dport 81 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT",
				"-A INPUT -p tcp -m tcp --dport 82 -m conntrack ! --ctstate INVALID -j ACCEPT"),
			probes: []probe{tcp4(80, Blocked), tcp4(81, Admitted), tcp4(82, Admitted)},
		},
		{
			name: "a source-restricted accept before the drop restricts",
			v4: filter("DROP", "",
				"-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 5432 -j ACCEPT",
				"-A INPUT -s 192.168.1.0/255.255.255.0 -p tcp -m tcp --dport 6379 -j ACCEPT",
				"-A INPUT -p tcp -m set --match-set trusted src -m tcp --dport 9200 -j ACCEPT"),
			probes: []probe{tcp4(5432, Restricted), tcp4(6379, Restricted), tcp4(9200, Restricted), tcp4(5433, Blocked)},
		},
		{
			name: "a source-restricted accept under an accept policy admits",
			v4: filter("ACCEPT", "",
				"-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 5432 -j ACCEPT"),
			probes: []probe{tcp4(5432, Admitted)},
		},
		{
			name: "blocklists and anti-spoofing drops do not block the arbitrary remote address",
			v4: filter("DROP", "",
				"-A INPUT -s 203.0.113.9/32 -j DROP",
				"-A INPUT -s 127.0.0.0/8 ! -i lo -j DROP",
				"-A INPUT -p tcp -m set --match-set f2b src -j REJECT --reject-with icmp-port-unreachable",
				"-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT"),
			probes: []probe{tcp4(443, Admitted), tcp4(444, Blocked)},
		},
		{
			name: "a negated source match applies to the arbitrary remote address",
			v4: filter("ACCEPT", "",
				"-A INPUT ! -s 10.0.0.0/8 -p tcp -m tcp --dport 5432 -j DROP",
				"-A INPUT ! -s 0.0.0.0/0 -p tcp -m tcp --dport 5433 -j DROP"),
			probes: []probe{tcp4(5432, Blocked), tcp4(5433, Admitted)},
		},
		{
			name: "interface rules cannot be judged, unless a definite drop comes first",
			v4: filter("DROP", "",
				"-A INPUT -p tcp -m tcp --dport 23 -j DROP",
				"-A INPUT -i eth1 -j ACCEPT",
				"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
			probes: []probe{tcp4(23, Blocked), tcp4(80, AdmitUnknown), tcp4(22, Admitted)},
		},
		{
			name: "an undecodable drop before an accept makes the accept uncertain",
			v4: filter("DROP", "",
				"-A INPUT -m mark --mark 0x1 -j DROP",
				"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
				"-A INPUT -p tcp -m tcp --dport 23 -m owner --uid-owner 0 -j ACCEPT"),
			probes: []probe{tcp4(22, AdmitUnknown), tcp4(23, AdmitUnknown), tcp4(24, Blocked)},
		},
		{
			name: "negated ports, multiport lists and ranges",
			v4: filter("ACCEPT", "",
				"-A INPUT -p tcp -m multiport --dports 80,443,8000:8100 -j ACCEPT",
				"-A INPUT -p udp -m udp --dport 60000: -j ACCEPT",
				"-A INPUT -p tcp -m tcp ! --dport 22 -j DROP",
				"-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable"),
			probes: []probe{tcp4(8050, Admitted), tcp4(443, Admitted), tcp4(22, Admitted), tcp4(8101, Blocked),
				udp4(61000, Admitted), udp4(53, Blocked)},
		},
		{
			name: "user chains: jump, return and fall-through",
			v4: filter("DROP", ":svc - [0:0]\n",
				"-A INPUT -p tcp -j svc",
				"-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT",
				"-A svc -p tcp -m tcp --dport 3306 -j RETURN",
				"-A svc -p tcp -m tcp --dport 8080 -j RETURN",
				"-A svc -p tcp -m tcp --dport 8000:9000 -j ACCEPT"),
			probes: []probe{tcp4(3306, Blocked), tcp4(8080, Admitted), tcp4(8443, Admitted), tcp4(9001, Blocked)},
		},
		{
			name: "goto: when the chain returns, so does its caller",
			v4: filter("DROP", ":sub - [0:0]\n",
				"-A INPUT -p tcp -g sub",
				"-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT",
				"-A sub -p tcp -m tcp --dport 22 -j ACCEPT"),
			probes: []probe{tcp4(22, Admitted), tcp4(80, Blocked)},
		},
		{
			name: "a final REJECT closes an accept policy",
			v4: filter("ACCEPT", "",
				"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
				"-A INPUT -j LOG --log-prefix \"rejected: \"",
				"-A INPUT -j REJECT --reject-with icmp-host-prohibited"),
			probes: []probe{tcp4(22, Admitted), tcp4(25, Blocked), udp4(53, Blocked)},
		},
		{
			name: "rate limits: a first connection is not over any limit",
			v4: filter("DROP", ":limit - [0:0]\n",
				"-A INPUT -p tcp -m tcp --dport 2222 -m conntrack --ctstate NEW -m recent --set --name DEFAULT --rsource",
				"-A INPUT -p tcp -m tcp --dport 2222 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 --name DEFAULT --rsource -j limit",
				"-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT",
				"-A INPUT -p tcp -m tcp --dport 2223 -m connlimit --connlimit-above 3 -j REJECT",
				"-A INPUT -p tcp -m tcp --dport 2223 -m hashlimit --hashlimit-upto 5/min --hashlimit-name x -j ACCEPT",
				"-A limit -j REJECT"),
			probes: []probe{tcp4(2222, Admitted), tcp4(2223, Admitted)},
		},
		{
			name: "NFQUEUE and unknown targets cannot be judged",
			v4: filter("DROP", "",
				"-A INPUT -p tcp -m tcp --dport 80 -j NFQUEUE --queue-num 1",
				"-A INPUT -p tcp -m tcp --dport 81 -j TARPIT",
				"-A INPUT -p tcp -m tcp --dport 81 -j ACCEPT"),
			probes: []probe{tcp4(80, AdmitUnknown), tcp4(81, AdmitUnknown), tcp4(82, Blocked)},
		},
		{
			name: "mangle PREROUTING drops before filter INPUT accepts",
			v4: "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n" +
				"-A PREROUTING -p tcp -m tcp --dport 25 -j DROP\nCOMMIT\n" +
				filter("ACCEPT", ""),
			probes: []probe{tcp4(25, Blocked), tcp4(26, Admitted)},
		},
		{
			name: "NAT tables do not filter, but destination NAT leaves the input path",
			v4: "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n" +
				"-A PREROUTING -p tcp -m tcp --dport 25 -j DNAT --to-destination 10.0.0.2\n" +
				"-A INPUT -p tcp -m tcp --dport 26 -j SNAT --to-source 10.0.0.3\n" +
				"-A POSTROUTING -j MASQUERADE\nCOMMIT\n" + filter("DROP", "", "-A INPUT -p tcp -m tcp --dport 26 -j ACCEPT"),
			probes: []probe{tcp4(25, AdmitUnknown), tcp4(26, Admitted), tcp4(27, Blocked)},
		},
		{
			name: "addrtype and pkttype: the packet is unicast to a local address",
			v4: filter("DROP", ":not-local - [0:0]\n",
				"-A INPUT -j not-local",
				"-A INPUT -d 224.0.0.251/32 -p udp -m udp --dport 5353 -j ACCEPT",
				"-A INPUT -p udp -m pkttype --pkt-type broadcast -j ACCEPT",
				"-A INPUT -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 443 -j ACCEPT",
				"-A not-local -m addrtype --dst-type LOCAL -j RETURN",
				"-A not-local -j DROP"),
			probes: []probe{udp4(5353, Blocked), udp4(67, Blocked), tcp4(443, Admitted), tcp4(444, Blocked)},
		},
		{
			name: "ip6tables: address family of the table",
			v4:   filter("DROP", "", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
			v6: filter("DROP", "",
				"-A INPUT -p ipv6-icmp -j ACCEPT",
				"-A INPUT -s fe80::/10 -p udp -m udp --dport 546 -j ACCEPT",
				"-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT"),
			probes: []probe{tcp6(22, Blocked), tcp6(443, Admitted), udp6(546, Restricted), tcp4(443, Blocked), tcp4(22, Admitted)},
		},
		{
			name: "old-style value negation and -I insertion",
			v4: filter("ACCEPT", "",
				"-A INPUT -p tcp -m tcp --dport ! 22 -j DROP",
				"-I INPUT -p tcp -m tcp --dport 80 -j ACCEPT"),
			probes: []probe{tcp4(22, Admitted), tcp4(80, Admitted), tcp4(81, Blocked)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tables []*table
			if tc.v4 != "" {
				tables = append(tables, saveTables(t, tc.v4, false, backendIptNft)...)
			}
			if tc.v6 != "" {
				tables = append(tables, saveTables(t, tc.v6, true, backendIptNft)...)
			}
			checkProbes(t, stateOf(tables...), tc.probes)
		})
	}
}

// TestInboundAcrossBackends: every backend's chains must accept; any drop wins.
func TestInboundAcrossBackends(t *testing.T) {
	legacy := saveTables(t, filter("ACCEPT", "", "-A INPUT -p tcp -m tcp --dport 25 -j ACCEPT"), false, backendIptLegacy)
	nftDrop := saveTables(t, filter("DROP", "", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"), false, backendIptNft)
	restricted := saveTables(t, filter("DROP", "", "-A INPUT -s 10.0.0.0/8 -j ACCEPT"), false, backendIptLegacy)
	unknown := saveTables(t, filter("DROP", "", "-A INPUT -i eth0 -j ACCEPT"), false, backendIptLegacy)
	checkProbes(t, stateOf(append(legacy, nftDrop...)...), []probe{tcp4(25, Blocked), tcp4(22, Admitted)})
	checkProbes(t, stateOf(append(nftDrop, restricted...)...), []probe{tcp4(22, Restricted), tcp4(23, Blocked)})
	checkProbes(t, stateOf(append(nftDrop, unknown...)...), []probe{tcp4(22, AdmitUnknown), tcp4(23, Blocked)})
	checkProbes(t, stateOf(append(restricted, unknown...)...), []probe{tcp4(22, Restricted)})
}

// TestInboundNftFeatures evaluates the real nft JSON output of rulesets/features.nft.
func TestInboundNftFeatures(t *testing.T) {
	data, err := os.ReadFile("testdata/nft/features.json")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := parseNft(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkProbes(t, stateOf(tables...), []probe{
		tcp4(22, Admitted), tcp6(22, Admitted),
		tcp4(80, Admitted), tcp4(443, Admitted), tcp4(8080, Admitted), tcp4(8443, Admitted),
		tcp4(9050, Admitted), tcp4(9101, Blocked),
		tcp4(5432, Restricted), tcp6(5432, Blocked),
		udp6(546, Restricted), udp4(546, Blocked),
		udp4(53, Admitted), udp6(53, Blocked),
		tcp4(25, Admitted), tcp4(26, Blocked),
		udp4(7000, Admitted), udp4(7050, Blocked),
		tcp4(6000, Admitted), tcp4(6001, Admitted), tcp4(6002, Admitted),
		tcp4(6003, AdmitUnknown), tcp4(6004, AdmitUnknown),
		tcp4(6005, Admitted), udp4(6006, Admitted),
		udp4(6007, Admitted), udp4(6008, Blocked),
		udp4(5353, Blocked),
		udp4(6150, Admitted), udp4(6300, Admitted), udp4(6200, Blocked),
		tcp4(7777, Blocked), tcp4(7778, Blocked), tcp6(7777, Blocked),
		tcp4(12345, Blocked), udp6(12345, Blocked),
	})
	d := defaultPath(tables, packet{proto: "tcp"}, hookPrerouting, hookInput)
	if d.verdict != vDrop || d.rule == nil || len(d.broad) != 0 {
		t.Errorf("default path: %s, broad %v; want the final drop rule", describeDefault(d), d.broad)
	}
}

// TestInboundFixtures evaluates fixtures through the collector: iptables-nft tables are
// read from iptables-nft-save (not from nft's view with its undecodable xt matches).
func TestInboundFixtures(t *testing.T) {
	cases := map[string][]probe{
		"ufw-nft": {
			tcp4(22, Admitted), tcp6(22, Admitted), tcp4(5432, Restricted), tcp6(5432, Blocked),
			tcp4(2222, Admitted), tcp4(80, Admitted), tcp4(443, Admitted), tcp6(443, Admitted),
			tcp4(3306, Blocked), udp4(3306, Blocked), tcp4(8080, AdmitUnknown), udp6(8080, AdmitUnknown),
			tcp4(12345, Blocked), udp4(137, Blocked),
			udp4(68, AdmitUnknown), // accepted from source port 67, which a sender chooses
		},
		"ufw-legacy": {
			tcp4(22, Admitted), tcp4(5432, Restricted), tcp4(12345, Blocked),
			tcp6(12345, Admitted), // ufw runs with IPV6=no
		},
		"nft-default-drop": {
			tcp4(22, Admitted), tcp6(443, Admitted), tcp4(5432, Restricted), tcp6(5432, Blocked), udp4(53, Blocked),
		},
		"mixed-backends": {tcp4(22, Admitted), tcp4(80, Blocked), tcp6(22, Admitted)},
		"accept-all":     {tcp4(12345, Admitted), udp4(53, Admitted), tcp6(1, Admitted)},
		// 8080 is published: DNAT sends it to a container through FORWARD.
		"docker-host": {tcp4(8080, AdmitUnknown), tcp4(22, Admitted), tcp4(80, Admitted)},
		"vpn-router": {
			udp4(51820, Admitted), tcp4(22, AdmitUnknown), tcp4(80, Blocked), udp6(51820, Admitted),
		},
		"no-firewall":        {tcp4(22, Admitted), udp6(53, Admitted)},
		"malformed":          {tcp4(22, AdmitUnknown)},
		"offline-persistent": {tcp4(22, AdmitUnknown)},
	}
	for name, probes := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := checktest.Load(filepath.Join("testdata", "fixtures", name))
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewCollector().Get(context.Background(), f.Host)
			if err != nil {
				t.Fatal(err)
			}
			checkProbes(t, s, probes)
		})
	}
}

func TestInboundRejectsBadArguments(t *testing.T) {
	s := stateOf()
	for _, port := range []int{0, -1, 65536} {
		if got := s.Inbound(false, "tcp", port); got != AdmitUnknown {
			t.Errorf("Inbound(port %d) = %s, want unknown", port, got)
		}
	}
	var nilState *State
	if got := nilState.Inbound(false, "tcp", 22); got != AdmitUnknown {
		t.Errorf("nil state: %s", got)
	}
}

func TestWalkBounds(t *testing.T) {
	// Chains that jump many times into chains that jump many times: the walk stops and
	// reports unknown rather than running for ever.
	tb := newTable(famIPv4, "filter", backendIptNft)
	in := tb.addChain("INPUT")
	in.base, in.ctype, in.hook, in.policy = true, "filter", hookInput, vDrop
	prev := in
	for i := 0; i < 12; i++ {
		c := tb.addChain("c" + strconv.Itoa(i))
		for j := 0; j < 8; j++ {
			prev.rules = append(prev.rules, rule{conds: []cond{unknownCond("x")}, verdict: verdict{kind: vJump, target: c.name}})
		}
		prev = c
	}
	prev.rules = append(prev.rules, rule{verdict: verdict{kind: vAccept}})
	if got := stateOf(tb).Inbound(false, "tcp", 22); got != AdmitUnknown {
		t.Errorf("pathological ruleset: %s, want unknown", got)
	}

	// A jump loop, which netfilter would refuse, is unknown rather than endless.
	loop := newTable(famIPv4, "filter", backendIptNft)
	in = loop.addChain("INPUT")
	in.base, in.ctype, in.hook, in.policy = true, "filter", hookInput, vAccept
	a, b := loop.addChain("a"), loop.addChain("b")
	in.rules = []rule{{verdict: verdict{kind: vJump, target: "a"}}}
	a.rules = []rule{{verdict: verdict{kind: vJump, target: "b"}}}
	b.rules = []rule{{verdict: verdict{kind: vJump, target: "a"}}}
	if got := stateOf(loop).Inbound(false, "tcp", 22); got != AdmitUnknown {
		t.Errorf("jump loop: %s, want unknown", got)
	}
}
