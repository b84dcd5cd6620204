package firewall

import (
	"cmp"
	"net/netip"
	"slices"
)

// The model below is what every backend parser produces: tables of chains of rules, each
// rule a list of conditions and a verdict. It keeps only what the evaluation needs; what a
// parser cannot decode becomes an unknown condition or verdict, never a guess.

// fam is the address family of a table (and so of the packets its chains see).
type fam uint8

const (
	famInet   fam = iota // nft inet: IPv4 and IPv6
	famIPv4              // nft ip, iptables
	famIPv6              // nft ip6, ip6tables
	famNetdev            // nft netdev: per-device ingress, both address families
	famOther             // arp, bridge: never on the IP input path
)

func (f fam) String() string {
	switch f {
	case famInet:
		return "inet"
	case famIPv4:
		return "ip"
	case famIPv6:
		return "ip6"
	case famNetdev:
		return "netdev"
	}
	return "other"
}

// sees reports whether chains of a table of family f see packets of the given address
// family.
func (f fam) sees(v6 bool) bool {
	switch f {
	case famInet, famNetdev:
		return true
	case famIPv4:
		return !v6
	case famIPv6:
		return v6
	}
	return false
}

// backend is where a table was read from.
type backend uint8

const (
	backendNft       backend = iota // nft -j list ruleset (native nftables tables)
	backendIptNft                   // iptables-nft-save / ip6tables-nft-save
	backendIptLegacy                // iptables-legacy-save / ip6tables-legacy-save
	backendConfig                   // a rules file on disk (offline evaluation)
)

// Fact values of the backends.
func (b backend) String() string {
	switch b {
	case backendNft:
		return "nftables"
	case backendIptNft:
		return "iptables-nft"
	case backendIptLegacy:
		return "iptables-legacy"
	}
	return "config"
}

// Netfilter hooks, by the order a packet meets them.
const (
	hookIngress    = "ingress"
	hookPrerouting = "prerouting"
	hookInput      = "input"
	hookForward    = "forward"
	hookOutput     = "output"
)

// hookOrder ranks the hooks a packet to a local socket (ingress, prerouting, input) or a
// forwarded packet (ingress, prerouting, forward) traverses.
func hookOrder(h string) int {
	switch h {
	case hookIngress:
		return 0
	case hookPrerouting:
		return 1
	case hookInput, hookForward:
		return 2
	}
	return 3
}

// verdictKind is what a rule does with a packet it matches.
type verdictKind uint8

const (
	vNone    verdictKind = iota // no verdict: counter, log, mark; evaluation continues
	vAccept                     // accept: this base chain lets the packet through
	vDrop                       // drop
	vReject                     // reject (a drop with an answer)
	vJump                       // jump to a user chain, come back on return
	vGoto                       // goto a user chain, return to the caller's caller
	vReturn                     // return to the calling chain (policy in a base chain)
	vQueue                      // hand to a userspace program (NFQUEUE)
	vUnknown                    // a target we cannot judge: it may stop the packet or not
)

func (v verdictKind) String() string {
	return [...]string{"none", "accept", "drop", "reject", "jump", "goto", "return", "queue", "unknown"}[v]
}

// verdict is a rule's verdict; target names the chain of a jump or goto.
type verdict struct {
	kind   verdictKind
	target string
}

// key is what a condition compares.
type key uint8

const (
	kFixed        key = iota // a condition whose result does not depend on the packet we model
	kIif                     // input interface name
	kOif                     // output interface name
	kL4                      // transport protocol name
	kNfproto                 // address family: ipv4, ipv6
	kDport                   // destination port
	kSport                   // source port
	kSaddr4                  // IPv4 source address
	kSaddr6                  // IPv6 source address
	kDaddr4                  // IPv4 destination address
	kDaddr6                  // IPv6 destination address
	kCtState                 // conntrack state
	kCtStatus                // conntrack status bits
	kDaddrType               // routing type of the destination: local, broadcast, multicast…
	kSaddrType               // routing type of the source
	kPktType                 // link-layer packet type: host, broadcast, multicast
	kRPF                     // reverse-path lookup result (fib saddr . iif oif)
	kSourceOpaque            // some other property of the sender (MAC address, ipset, geoip)
	kEtherProto              // link-layer protocol: ip, ip6
	kExtHdr                  // presence or a field of an IPv6 extension header
)

// valueKind says which field of a value is set.
type valueKind uint8

const (
	valStr     valueKind = iota // a name
	valRange                    // a number or an inclusive range of numbers
	valPrefix                   // an address or prefix
	valUnknown                  // a value the parser could not read
)

// value is one element of a condition's right-hand side.
type value struct {
	kind   valueKind
	str    string
	lo, hi int
	prefix netip.Prefix
}

func strValue(s string) value          { return value{kind: valStr, str: s} }
func rangeValue(lo, hi int) value      { return value{kind: valRange, lo: lo, hi: hi} }
func prefixValue(p netip.Prefix) value { return value{kind: valPrefix, prefix: p.Masked()} }
func unknownValue() value              { return value{kind: valUnknown} }

func wrapValues(vals []value) [][]value {
	out := make([][]value, len(vals))
	for i, v := range vals {
		out[i] = []value{v}
	}
	return out
}

// cond is one condition of a rule: the packet's keys (one, or several for an nft
// concatenation) equal one of the alternatives in elems, or with neg none of them.
type cond struct {
	keys  []key
	elems [][]value
	neg   bool
	// open: the set's content is unknown (a dynamic or undeclared set).
	open bool
	// fixed is the result of a kFixed condition.
	fixed match
	// note names an unknown condition for the local report.
	note string
}

// keyCond returns a one-key condition.
func keyCond(k key, neg bool, vals ...value) cond {
	return cond{keys: []key{k}, elems: wrapValues(vals), neg: neg}
}

// fixedCond returns a condition with a fixed result.
func fixedCond(m match, note string) cond {
	return cond{keys: []key{kFixed}, fixed: m, note: note}
}

// unknownCond is a condition the evaluation cannot decide.
func unknownCond(note string) cond { return fixedCond(mUnknown, note) }

// rule is one rule of a chain.
type rule struct {
	conds   []cond
	verdict verdict
	// log: the rule logs the packets it matches (nft log, LOG, NFLOG, ULOG).
	log bool
	// pos is the rule's 1-based position in its chain, for the local report.
	pos int
}

// chain is a chain of a table; base chains are attached to a hook.
type chain struct {
	table  *table
	name   string
	base   bool
	ctype  string // filter, nat, route
	hook   string
	prio   int
	policy verdictKind // vAccept or vDrop, base chains only
	// device: the chain only sees packets of some interfaces (netdev ingress).
	device bool
	rules  []rule
}

// table is a table of one backend.
type table struct {
	family  fam
	name    string
	backend backend
	chains  map[string]*chain
	// order lists the chains in declaration order.
	order []*chain
	// rules and logRules count the rules as written (a verdict map expands into several
	// model rules but counts once).
	rules, logRules int
}

func newTable(f fam, name string, b backend) *table {
	return &table{family: f, name: name, backend: b, chains: map[string]*chain{}}
}

// addChain returns the chain called name, creating it.
func (t *table) addChain(name string) *chain {
	if c := t.chains[name]; c != nil {
		return c
	}
	c := &chain{table: t, name: name, policy: vAccept}
	t.chains[name] = c
	t.order = append(t.order, c)
	return c
}

// isNAT reports whether every base chain of the table is a NAT chain (iptables' nat
// table): such tables never filter.
func (t *table) isNAT() bool {
	nat := false
	for _, c := range t.order {
		if !c.base {
			continue
		}
		if c.ctype != "nat" {
			return false
		}
		nat = true
	}
	return nat
}

// label names a chain for the local report: "ip filter INPUT (iptables-legacy)".
func (c *chain) label() string {
	return c.table.family.String() + " " + c.table.name + " " + c.name + " (" + c.table.backend.String() + ")"
}

// filters reports whether the base chain can drop packets on its own: it has rules or
// a drop policy.
func (c *chain) filters() bool {
	return len(c.rules) > 0 || c.policy != vAccept
}

// baseChains returns the filter base chains on the given hooks that see packets of the
// address family, ordered as netfilter runs them: by hook, then priority, then by the
// order the tables were read.
func baseChains(tables []*table, v6 bool, hooks ...string) []*chain {
	return selectChains(tables, v6, func(c *chain) bool {
		return c.ctype == "filter" && slices.Contains(hooks, c.hook)
	})
}

// inboundChains returns the chains a packet to a local socket traverses: filter chains on
// the ingress, prerouting and input hooks, and NAT chains on prerouting, whose
// destination NAT sends the packet elsewhere.
func inboundChains(tables []*table, v6 bool) []*chain {
	return selectChains(tables, v6, func(c *chain) bool {
		switch c.ctype {
		case "filter":
			return c.hook == hookIngress || c.hook == hookPrerouting || c.hook == hookInput
		case "nat":
			return c.hook == hookPrerouting
		}
		return false
	})
}

// selectChains returns the base chains keep selects, in netfilter's order.
func selectChains(tables []*table, v6 bool, keep func(*chain) bool) []*chain {
	var out []*chain
	for _, t := range tables {
		if !t.family.sees(v6) {
			continue
		}
		for _, c := range t.order {
			if c.base && keep(c) {
				out = append(out, c)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *chain) int {
		if d := cmp.Compare(hookOrder(a.hook), hookOrder(b.hook)); d != 0 {
			return d
		}
		return cmp.Compare(a.prio, b.prio)
	})
	return out
}
