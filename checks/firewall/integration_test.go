package firewall

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/report"
)

// The integration tests load real rulesets with nft, iptables-nft-restore and
// iptables-legacy-restore into network namespaces they create, and run the real collectors
// there. The machine's own ruleset is never touched, and each test checks that the root
// namespace's ruleset is unchanged when it ends.

// nsHost is the running system with every command run inside a network namespace. Its
// filesystem, procfs and sysfs stay the machine's.
type nsHost struct {
	host.Host
	ns string
}

// Run implements host.Host.
func (h nsHost) Run(ctx context.Context, argv ...string) (host.Output, error) {
	if len(argv) == 0 {
		return host.Output{}, fmt.Errorf("run: empty command")
	}
	if _, err := host.LookPath(argv[0]); err != nil {
		return host.Output{}, fmt.Errorf("run %s: %w", argv[0], err)
	}
	return h.Host.Run(ctx, append([]string{"ip", "netns", "exec", h.ns}, argv...)...)
}

var nsCounter atomic.Int64

// requireNetfilter skips (or fails under SERVER_AUDIT_INTEGRATION=required) without root
// and the tools, and asserts at the end of the test that the root namespace's rulesets
// are unchanged.
func requireNetfilter(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	for _, tool := range []string{"ip", "nft", "iptables-nft-restore", "iptables-nft-save", "iptables-legacy-restore", "iptables-legacy-save"} {
		testenv.RequireTool(t, tool)
	}
	before := rootRulesets(t)
	t.Cleanup(func() {
		if after := rootRulesets(t); after != before {
			t.Errorf("the root namespace's ruleset changed during the test:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

// rootRulesets lists the root namespace's rulesets of both backends, without the
// timestamps of the save headers.
func rootRulesets(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, argv := range [][]string{{"nft", "list", "ruleset"}, {"iptables-legacy-save"}, {"ip6tables-legacy-save"}} {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", argv[0], err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "#") {
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String()
}

// newNamespace creates a network namespace deleted when the test ends.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("sa-fw-%d-%d", os.Getpid(), nsCounter.Add(1))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	return ns
}

// load runs argv inside the namespace with input on stdin.
func load(t *testing.T, ns, input string, argv ...string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Stdin = strings.NewReader(input)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s in %s: %v: %s", strings.Join(argv, " "), ns, err, out)
	}
}

func readRuleset(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/rulesets/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// machineGlobalIPv6 tells whether the machine (whose procfs the namespace hosts share)
// has a global IPv6 address, which decides firewall.ipv6-filtered.
func machineGlobalIPv6(t *testing.T, h host.Host) bool {
	t.Helper()
	proc, err := h.Proc()
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := globalIPv6(proc)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestIntegrationNamespaces(t *testing.T) {
	requireNetfilter(t)
	machine, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v6 := machineGlobalIPv6(t, machine)
	ipv6Open := report.StatusSkip
	if v6 {
		ipv6Open = report.StatusFail
	}
	ipv6Closed := report.StatusSkip
	if v6 {
		ipv6Closed = report.StatusPass
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T, ns string)
		expect map[string]report.Status
		probes []probe
	}{
		{
			name:  "nft default drop",
			setup: func(t *testing.T, ns string) { load(t, ns, readRuleset(t, "default-drop.nft"), "nft", "-f", "-") },
			expect: map[string]report.Status{
				"firewall.active": report.StatusPass, "firewall.default-inbound": report.StatusPass,
				"firewall.ipv6-filtered": ipv6Closed, "firewall.ruleset-not-empty": report.StatusPass,
				"firewall.broad-accept": report.StatusPass, "firewall.mixed-backends": report.StatusPass,
				"firewall.logging": report.StatusPass,
			},
			probes: []probe{tcp4(22, Admitted), tcp6(443, Admitted), tcp4(5432, Restricted), tcp6(5432, Blocked),
				tcp4(12345, Blocked), udp6(53, Blocked)},
		},
		{
			name:  "accept all",
			setup: func(t *testing.T, ns string) { load(t, ns, readRuleset(t, "accept-all.rules"), "iptables-nft-restore") },
			expect: map[string]report.Status{
				"firewall.active": report.StatusPass, "firewall.default-inbound": report.StatusFail,
				"firewall.ipv6-filtered": ipv6Open, "firewall.ruleset-not-empty": report.StatusPass,
				"firewall.broad-accept": report.StatusFail, "firewall.mixed-backends": report.StatusPass,
				"firewall.logging": report.StatusFail,
			},
			probes: []probe{tcp4(12345, Admitted), udp4(53, Admitted), tcp6(22, Admitted)},
		},
		{
			name: "IPv4 filtered, IPv6 open",
			setup: func(t *testing.T, ns string) {
				load(t, ns, filter("DROP", "", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
					"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -j LOG"), "iptables-nft-restore")
			},
			expect: map[string]report.Status{
				"firewall.active": report.StatusPass, "firewall.default-inbound": report.StatusPass,
				"firewall.ipv6-filtered": ipv6Open, "firewall.broad-accept": report.StatusPass,
				"firewall.logging": report.StatusPass,
			},
			probes: []probe{tcp4(22, Admitted), tcp4(80, Blocked), tcp6(80, Admitted), udp6(53, Admitted)},
		},
		{
			name:  "empty",
			setup: func(*testing.T, string) {},
			expect: map[string]report.Status{
				"firewall.active": report.StatusFail, "firewall.default-inbound": report.StatusFail,
				"firewall.ipv6-filtered": ipv6Open, "firewall.ruleset-not-empty": report.StatusFail,
				"firewall.broad-accept": report.StatusSkip, "firewall.mixed-backends": report.StatusPass,
				"firewall.logging": report.StatusSkip,
			},
			probes: []probe{tcp4(22, Admitted), udp6(53, Admitted)},
		},
		{
			name: "mixed backends",
			setup: func(t *testing.T, ns string) {
				load(t, ns, readRuleset(t, "mixed-nft.nft"), "nft", "-f", "-")
				load(t, ns, readRuleset(t, "mixed-legacy.rules"), "iptables-legacy-restore")
			},
			expect: map[string]report.Status{
				"firewall.active": report.StatusPass, "firewall.default-inbound": report.StatusPass,
				"firewall.ipv6-filtered": ipv6Closed, "firewall.mixed-backends": report.StatusFail,
				"firewall.ruleset-not-empty": report.StatusPass, "firewall.logging": report.StatusPass,
			},
			probes: []probe{tcp4(22, Admitted), tcp4(80, Blocked), tcp6(22, Admitted)},
		},
		{
			name: "ufw-style ruleset on iptables-nft",
			setup: func(t *testing.T, ns string) {
				load(t, ns, fixtureOutput(t, "ufw-nft", "iptables-nft-save.txt"), "iptables-nft-restore")
			},
			expect: map[string]report.Status{
				"firewall.active": report.StatusPass, "firewall.default-inbound": report.StatusPass,
				"firewall.broad-accept": report.StatusPass, "firewall.logging": report.StatusPass,
			},
			probes: []probe{tcp4(22, Admitted), tcp4(5432, Restricted), tcp4(3306, Blocked), tcp4(8080, AdmitUnknown), tcp4(2222, Admitted)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace(t)
			tc.setup(t, ns)
			h := nsHost{Host: machine, ns: ns}
			c := NewCollector()
			for _, chk := range Checks(c) {
				res := checktest.Evaluate(h, chk)
				want, ok := tc.expect[chk.ID()]
				switch {
				case ok && res.Status != want:
					t.Errorf("%s: %s (%s: %s), want %s", chk.ID(), res.Status, res.Reason, res.Message, want)
				case res.Status == report.StatusError:
					t.Errorf("%s errored: %s: %s", chk.ID(), res.Reason, res.Message)
				}
			}
			s, err := c.Get(context.Background(), h)
			if err != nil || s.liveErr != nil {
				t.Fatalf("state: %v, %v", err, s.liveErr)
			}
			checkProbes(t, s, tc.probes)
			compareWithTools(t, ns, s)
		})
	}
}

func fixtureOutput(t *testing.T, fixture, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/fixtures/" + fixture + "/commands/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// compareWithTools validates the parsers against the tools' own listings of the same
// namespace: as many nft rules as `nft -a list ruleset` prints handles for (minus those of
// tables iptables-nft-save decoded), as many iptables rules as `iptables -S` prints.
func compareWithTools(t *testing.T, ns string, s *State) {
	t.Helper()
	run := func(argv ...string) string {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...).Output()
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(argv, " "), err)
		}
		return string(out)
	}
	count := func(b backend) int {
		n := 0
		for _, tb := range s.ruleset.tables {
			if tb.backend == b {
				n += tb.rules
			}
		}
		return n
	}
	nftRules := 0
	for _, line := range strings.Split(run("nft", "-a", "list", "ruleset"), "\n") {
		line = strings.TrimSpace(line)
		if strings.Contains(line, "# handle") && !strings.HasPrefix(line, "table") && !strings.HasPrefix(line, "chain") &&
			!strings.HasPrefix(line, "set") && !strings.HasPrefix(line, "type") {
			nftRules++
		}
	}
	if got := count(backendNft) + count(backendIptNft); got != nftRules {
		t.Errorf("nf_tables rules: parsed %d, nft -a list ruleset shows %d", got, nftRules)
	}
	legacy := 0
	for _, argv := range []string{"iptables-legacy-save", "ip6tables-legacy-save"} {
		for _, line := range strings.Split(run(argv), "\n") {
			if strings.HasPrefix(line, "-A ") {
				legacy++
			}
		}
	}
	if got := count(backendIptLegacy); got != legacy {
		t.Errorf("legacy rules: parsed %d, iptables-legacy-save shows %d", got, legacy)
	}
}

// TestIntegrationResultsRedacted: facts of a real run carry no address, interface name or
// comment of the ruleset.
func TestIntegrationResultsRedacted(t *testing.T) {
	requireNetfilter(t)
	machine, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	load(t, ns, filter("DROP", "",
		"-A INPUT -s 198.51.100.23/32 -i ens-secret -m comment --comment \"hunter2-comment\" -j ACCEPT",
		"-A INPUT -j LOG --log-prefix \"prefix-secret \""), "iptables-nft-restore")
	h := nsHost{Host: machine, ns: ns}
	for _, chk := range Checks(NewCollector()) {
		res := checktest.Evaluate(h, chk)
		facts := fmt.Sprint(res.Facts)
		for _, secret := range []string{"198.51.100", "ens-secret", "hunter2", "prefix-secret"} {
			if strings.Contains(facts, secret) {
				t.Errorf("%s facts leak %q: %s", chk.ID(), secret, facts)
			}
		}
	}
}
