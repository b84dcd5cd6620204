package firewall

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// This file reads the expressions of nft rules: the operands of matches and their values.

// operand is what the left side of a match compares: a key with the conditions its
// protocol header implies ("tcp dport" only exists for TCP).
type operand struct {
	key     key
	implied []cond
	note    string // set for expressions we cannot model
	// tcpFlags: the TCP flags field, judged by its own rule.
	tcpFlags bool
}

func l4Cond(names ...string) cond {
	vals := make([]value, len(names))
	for i, n := range names {
		vals[i] = strValue(n)
	}
	return keyCond(kL4, false, vals...)
}

func nfprotoCond(v6 bool) cond {
	if v6 {
		return keyCond(kNfproto, false, strValue("ipv6"))
	}
	return keyCond(kNfproto, false, strValue("ipv4"))
}

// operandOf reads a left-hand expression.
func operandOf(raw json.RawMessage) operand {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
		return operand{key: kFixed, note: "expression"}
	}
	for name, body := range obj {
		switch name {
		case "meta":
			var m struct {
				Key string `json:"key"`
			}
			_ = json.Unmarshal(body, &m)
			switch m.Key {
			case "iifname", "iif":
				return operand{key: kIif}
			case "oifname", "oif":
				return operand{key: kOif}
			case "l4proto":
				return operand{key: kL4}
			case "nfproto":
				return operand{key: kNfproto}
			case "protocol":
				return operand{key: kEtherProto}
			case "pkttype":
				return operand{key: kPktType}
			}
			return operand{key: kFixed, note: "meta " + m.Key}
		case "payload":
			var pl struct {
				Protocol string `json:"protocol"`
				Field    string `json:"field"`
			}
			_ = json.Unmarshal(body, &pl)
			return payloadOperand(pl.Protocol, pl.Field)
		case "ct":
			var c struct {
				Key string `json:"key"`
			}
			_ = json.Unmarshal(body, &c)
			switch c.Key {
			case "state":
				return operand{key: kCtState}
			case "status":
				return operand{key: kCtStatus}
			}
			return operand{key: kFixed, note: "ct " + c.Key}
		case "fib":
			var f struct {
				Result string   `json:"result"`
				Flags  []string `json:"flags"`
			}
			_ = json.Unmarshal(body, &f)
			switch {
			case f.Result == "type" && slices.Contains(f.Flags, "daddr"):
				return operand{key: kDaddrType}
			case f.Result == "type" && slices.Contains(f.Flags, "saddr"):
				return operand{key: kSaddrType}
			case (f.Result == "oif" || f.Result == "oifname") && slices.Contains(f.Flags, "saddr"):
				return operand{key: kRPF}
			}
			return operand{key: kFixed, note: "fib"}
		case "exthdr":
			return operand{key: kExtHdr}
		case "&":
			var parts []json.RawMessage
			if json.Unmarshal(body, &parts) == nil && len(parts) == 2 {
				if inner := operandOf(parts[0]); inner.tcpFlags {
					return inner
				}
			}
			return operand{key: kFixed, note: "bitwise expression"}
		}
		return operand{key: kFixed, note: name}
	}
	return operand{key: kFixed, note: "expression"}
}

// payloadOperand reads "PROTOCOL FIELD" header matches.
func payloadOperand(proto, field string) operand {
	switch proto {
	case "ip", "ip6":
		v6 := proto == "ip6"
		implied := []cond{nfprotoCond(v6)}
		switch field {
		case "saddr":
			if v6 {
				return operand{key: kSaddr6}
			}
			return operand{key: kSaddr4}
		case "daddr":
			if v6 {
				return operand{key: kDaddr6}
			}
			return operand{key: kDaddr4}
		case "protocol", "nexthdr":
			return operand{key: kL4, implied: implied}
		}
		return operand{key: kFixed, implied: implied, note: proto + " " + field}
	case "tcp", "udp", "udplite", "sctp", "dccp", "th":
		implied := []cond{l4Cond(proto)}
		if proto == "th" {
			implied = []cond{l4Cond("tcp", "udp", "udplite", "sctp", "dccp")}
		}
		switch field {
		case "dport":
			return operand{key: kDport, implied: implied}
		case "sport":
			return operand{key: kSport, implied: implied}
		case "flags":
			if proto == "tcp" {
				return operand{key: kFixed, implied: implied, tcpFlags: true}
			}
		}
		return operand{key: kFixed, implied: implied, note: proto + " " + field}
	case "icmp":
		return operand{key: kFixed, implied: []cond{l4Cond("icmp")}, note: "icmp " + field}
	case "icmpv6":
		return operand{key: kFixed, implied: []cond{l4Cond("ipv6-icmp")}, note: "icmpv6 " + field}
	case "ether":
		if field == "saddr" {
			return operand{key: kSourceOpaque}
		}
	}
	return operand{key: kFixed, note: "payload " + proto + " " + field}
}

// matchConds turns one match statement into conditions.
func (b *nftRuleBuilder) matchConds(op string, left, right json.RawMessage) []cond {
	var concat struct {
		Concat []json.RawMessage `json:"concat"`
	}
	if json.Unmarshal(left, &concat) == nil && len(concat.Concat) > 0 {
		return b.concatConds(op, concat.Concat, right)
	}
	o := operandOf(left)
	conds := slices.Clone(o.implied)
	switch {
	case o.tcpFlags:
		return append(conds, tcpFlagsCond(op, right))
	case o.key == kFixed:
		return append(conds, unknownCond(o.note))
	}
	neg := op == "!="
	switch op {
	case "==", "!=", "in":
		alts, open := b.values([]key{o.key}, right)
		return append(conds, cond{keys: []key{o.key}, elems: alts, neg: neg, open: open})
	case "<", "<=", ">", ">=":
		if o.key == kDport {
			if r, ok := comparisonRange(op, right); ok {
				return append(conds, keyCond(kDport, false, r))
			}
		}
	}
	return append(conds, unknownCond("comparison "+op))
}

// tcpFlagsCond judges a TCP flags match: the first packet of a new connection carries SYN
// alone, so "flags syn" (with any mask) matches it and "!= syn" does not.
func tcpFlagsCond(op string, right json.RawMessage) cond {
	var s string
	if json.Unmarshal(right, &s) == nil && s == "syn" {
		switch op {
		case "==", "in":
			return fixedCond(mYes, "tcp flags")
		case "!=":
			return fixedCond(mNo, "tcp flags")
		}
	}
	return unknownCond("tcp flags")
}

// comparisonRange turns "dport < N" and friends into a range.
func comparisonRange(op string, right json.RawMessage) (value, bool) {
	var n int
	if json.Unmarshal(right, &n) != nil {
		return value{}, false
	}
	switch op {
	case "<":
		return rangeValue(0, n-1), true
	case "<=":
		return rangeValue(0, n), true
	case ">":
		return rangeValue(n+1, 65535), true
	}
	return rangeValue(n, 65535), true
}

// concatConds reads "a . b { x . y, … }" matches.
func (b *nftRuleBuilder) concatConds(op string, lefts []json.RawMessage, right json.RawMessage) []cond {
	var conds []cond
	keys := make([]key, len(lefts))
	for i, l := range lefts {
		o := operandOf(l)
		conds = append(conds, o.implied...)
		keys[i] = o.key
		if o.key == kFixed {
			return append(conds, unknownCond("concatenation with "+o.note))
		}
	}
	if op != "==" && op != "!=" && op != "in" {
		return append(conds, unknownCond("comparison "+op))
	}
	alts, open := b.values(keys, right)
	return append(conds, cond{keys: keys, elems: alts, neg: op == "!=", open: open})
}

// values reads a right-hand side for keys: alternatives, each with one value per key.
// open reports a set whose content is not (or not reliably) known.
func (b *nftRuleBuilder) values(keys []key, raw json.RawMessage) ([][]value, bool) {
	var name string
	if json.Unmarshal(raw, &name) == nil && strings.HasPrefix(name, "@") {
		s := b.p.sets[tableKey(b.family, b.table)+"\x00"+name[1:]]
		if s == nil || s.dynamic {
			return nil, true
		}
		var out [][]value
		for _, e := range s.elems {
			out = append(out, elemValues(keys, e)...)
		}
		return out, false
	}
	return elemValues(keys, raw), false
}

// elemValues reads one element, an anonymous set or a list into alternatives.
func elemValues(keys []key, raw json.RawMessage) [][]value {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil && len(obj) == 1 {
		switch {
		case obj["set"] != nil:
			var items []json.RawMessage
			if json.Unmarshal(obj["set"], &items) != nil {
				return [][]value{unknownAlt(keys)}
			}
			var out [][]value
			for _, it := range items {
				out = append(out, elemValues(keys, it)...)
			}
			return out
		case obj["elem"] != nil:
			var e struct {
				Val json.RawMessage `json:"val"`
			}
			if json.Unmarshal(obj["elem"], &e) != nil {
				return [][]value{unknownAlt(keys)}
			}
			return elemValues(keys, e.Val)
		case obj["concat"] != nil:
			var parts []json.RawMessage
			if json.Unmarshal(obj["concat"], &parts) != nil || len(parts) != len(keys) {
				return [][]value{unknownAlt(keys)}
			}
			alt := make([]value, len(keys))
			for i, part := range parts {
				alt[i] = scalarValue(keys[i], part)
			}
			return [][]value{alt}
		}
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) == nil {
		// A list: flags tested with "in" (ct state in [established, related]).
		var out [][]value
		for _, it := range items {
			out = append(out, elemValues(keys, it)...)
		}
		return out
	}
	if len(keys) != 1 {
		return [][]value{unknownAlt(keys)}
	}
	return [][]value{{scalarValue(keys[0], raw)}}
}

func unknownAlt(keys []key) []value {
	alt := make([]value, len(keys))
	for i := range alt {
		alt[i] = unknownValue()
	}
	return alt
}

// scalarValue reads one value for key k: a number, a name, a prefix or a range.
func scalarValue(k key, raw json.RawMessage) value {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		switch {
		case obj["prefix"] != nil:
			var pr struct {
				Addr string `json:"addr"`
				Len  int    `json:"len"`
			}
			if json.Unmarshal(obj["prefix"], &pr) == nil {
				if a, err := netip.ParseAddr(pr.Addr); err == nil {
					if p, err := a.Prefix(pr.Len); err == nil {
						return prefixValue(p)
					}
				}
			}
			return unknownValue()
		case obj["range"] != nil:
			var r []json.RawMessage
			if json.Unmarshal(obj["range"], &r) != nil || len(r) != 2 {
				return unknownValue()
			}
			if k == kDport || k == kSport {
				lo, hi := scalarValue(k, r[0]), scalarValue(k, r[1])
				if lo.kind == valRange && hi.kind == valRange && lo.lo <= hi.hi {
					return rangeValue(lo.lo, hi.hi)
				}
				return unknownValue()
			}
			// An address range: a source restriction, an unknown destination.
			return strValue("range")
		}
		return unknownValue()
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		if k == kDport || k == kSport {
			if n < 0 || n > 65535 {
				return unknownValue()
			}
			return rangeValue(int(n), int(n))
		}
		return strValue(strconv.FormatInt(n, 10))
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch k {
		case kDport, kSport:
			return portValue(s)
		case kSaddr4, kSaddr6, kDaddr4, kDaddr6:
			if a, err := netip.ParseAddr(s); err == nil {
				return prefixValue(netip.PrefixFrom(a, a.BitLen()))
			}
			return unknownValue()
		}
		return strValue(s)
	}
	var bl bool
	if json.Unmarshal(raw, &bl) == nil {
		return strValue(strconv.FormatBool(bl))
	}
	return unknownValue()
}

// portValue reads a port given as a number or a well-known service name.
func portValue(s string) value {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 65535 {
		return rangeValue(n, n)
	}
	if n, ok := servicePorts()[s]; ok {
		return rangeValue(n, n)
	}
	return unknownValue()
}

// servicePorts maps the service names nft and iptables may print for common ports.
func servicePorts() map[string]int {
	return map[string]int{
		"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "pop3": 110,
		"imap": 143, "imap2": 143, "https": 443, "submissions": 465, "submission": 587,
		"imaps": 993, "pop3s": 995, "mysql": 3306, "postgresql": 5432, "bootps": 67, "bootpc": 68,
		"ntp": 123, "snmp": 161, "ldap": 389, "ldaps": 636, "microsoft-ds": 445, "netbios-ns": 137,
		"netbios-dgm": 138, "netbios-ssn": 139, "mdns": 5353,
	}
}
