package firewall

import (
	"net/netip"
	"strconv"
	"strings"
)

// This file reads the options of one iptables rule ("-p tcp -m tcp --dport 22 -j ACCEPT").

// token is a word of a command line; quoted words are always values.
type token struct {
	s      string
	quoted bool
}

// tokenize splits a command line like iptables-restore: blanks separate words, double and
// single quotes group them, a backslash escapes the next character inside double quotes.
func tokenize(line string) ([]token, error) {
	var out []token
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == ' ' || ch == '\t':
			if inWord {
				out = append(out, token{cur.String(), quoted})
				cur.Reset()
				inWord, quoted = false, false
			}
		case ch == '"' || ch == '\'':
			inWord, quoted = true, true
			closed := false
			for i++; i < len(line); i++ {
				c := line[i]
				if c == ch {
					closed = true
					break
				}
				if ch == '"' && c == '\\' && i+1 < len(line) {
					i++
					c = line[i]
				}
				cur.WriteByte(c)
			}
			if !closed {
				return nil, parseErr("unterminated quote in %q", line)
			}
		default:
			inWord = true
			cur.WriteByte(ch)
		}
	}
	if inWord {
		out = append(out, token{cur.String(), quoted})
	}
	return out, nil
}

// isOption reports whether a token is an option name (not a value such as "-1").
func isOption(t token) bool {
	if t.quoted || len(t.s) < 2 || t.s[0] != '-' {
		return false
	}
	_, err := strconv.Atoi(t.s)
	return err != nil
}

// ruleParser holds the state of one rule's options.
type ruleParser struct {
	table   string
	v6      bool
	r       rule
	module  string // the match module the next options belong to
	proto   string // the -p protocol, whose module options may follow without -m
	target  bool   // past -j: the remaining options belong to the target
	unknown map[string]bool
}

// parseRuleArgs reads the options of one rule.
func parseRuleArgs(args []token, tableName string, v6 bool) (rule, error) {
	p := &ruleParser{table: tableName, v6: v6, unknown: map[string]bool{}}
	for i := 0; i < len(args); {
		neg := false
		if !args[i].quoted && args[i].s == "!" {
			neg = true
			if i++; i >= len(args) {
				return rule{}, parseErr("dangling \"!\"")
			}
		}
		if !isOption(args[i]) {
			return rule{}, parseErr("unexpected value %q", args[i].s)
		}
		opt := args[i].s
		i++
		var vals []string
		for i < len(args) && !isOption(args[i]) {
			if !args[i].quoted && args[i].s == "!" {
				if i+1 < len(args) && isOption(args[i+1]) {
					break // negates the next option
				}
				neg = !neg // old syntax: "--dport ! 22"
				i++
				continue
			}
			vals = append(vals, args[i].s)
			i++
		}
		if err := p.option(opt, vals, neg); err != nil {
			return rule{}, err
		}
	}
	return p.r, nil
}

func (p *ruleParser) add(c ...cond) { p.r.conds = append(p.r.conds, c...) }

func (p *ruleParser) unknownOnce(note string) {
	if !p.unknown[note] {
		p.unknown[note] = true
		p.add(unknownCond(note))
	}
}

func one(opt string, vals []string) (string, error) {
	if len(vals) != 1 {
		return "", parseErr("option %s takes one value, got %d", opt, len(vals))
	}
	return vals[0], nil
}

// option reads one option with its values.
func (p *ruleParser) option(opt string, vals []string, neg bool) error {
	if p.target {
		return nil // target options: --reject-with, --log-prefix, --queue-num…
	}
	switch opt {
	case "-p", "--protocol":
		v, err := one(opt, vals)
		if err != nil {
			return err
		}
		p.proto = l4Name(v)
		p.add(keyCond(kL4, neg, strValue(p.proto)))
		return nil
	case "-s", "--source", "-d", "--destination":
		v, err := one(opt, vals)
		if err != nil {
			return err
		}
		k := map[bool]key{false: kSaddr4, true: kSaddr6}[p.v6]
		if opt == "-d" || opt == "--destination" {
			k = map[bool]key{false: kDaddr4, true: kDaddr6}[p.v6]
		}
		var addrs []value
		for _, a := range strings.Split(v, ",") {
			addrs = append(addrs, addrValue(a))
		}
		p.add(keyCond(k, neg, addrs...))
		return nil
	case "-i", "--in-interface", "-o", "--out-interface":
		v, err := one(opt, vals)
		if err != nil {
			return err
		}
		k := kIif
		if opt == "-o" || opt == "--out-interface" {
			k = kOif
		}
		p.add(keyCond(k, neg, strValue(v)))
		return nil
	case "-j", "--jump", "-g", "--goto":
		v, err := one(opt, vals)
		if err != nil {
			return err
		}
		kind := vJump
		if opt == "-g" || opt == "--goto" {
			kind = vGoto
		}
		p.r.verdict = verdict{kind: kind, target: v}
		p.target = true
		return nil
	case "-m", "--match":
		v, err := one(opt, vals)
		if err != nil {
			return err
		}
		p.module = v
		switch {
		case v == "rt" || v == "frag" || v == "hbh" || v == "dst":
			// IPv6 extension headers: these matches need the header, and the modelled
			// packet carries none, whatever their options say.
			p.add(fixedCond(mNo, "extension header "+v))
		case !knownModule(v):
			p.unknownOnce("match " + v)
		}
		return nil
	case "-f", "--fragment":
		// The modelled packet is the first (or only) fragment.
		p.add(fixedCond(boolMatchYes(neg), "fragment"))
		return nil
	case "-4", "--ipv4", "-6", "--ipv6":
		if (opt == "-6" || opt == "--ipv6") != p.v6 {
			p.add(fixedCond(mNo, "other address family"))
		}
		return nil
	case "-c", "--set-counters":
		return nil
	}
	if !strings.HasPrefix(opt, "--") {
		return parseErr("unknown option %q", opt)
	}
	module := p.module
	if module == "" {
		module = p.proto // "-p tcp --dport 22" without "-m tcp"
	}
	return p.moduleOption(module, opt, vals, neg)
}

// knownModule reports whether the options of a match module are decoded (or harmless).
func knownModule(m string) bool {
	switch m {
	case "tcp", "udp", "udplite", "sctp", "dccp", "icmp", "icmp6", "icmpv6", "multiport",
		"conntrack", "state", "addrtype", "limit", "hashlimit", "connlimit", "recent",
		"comment", "pkttype", "set", "iprange", "mac", "geoip", "rpfilter", "rt", "frag", "hbh", "dst":
		return true
	}
	return false
}

// moduleOption reads an option of a match module.
func (p *ruleParser) moduleOption(module, opt string, vals []string, neg bool) error {
	if !knownModule(module) {
		// The module itself was already noted as unknown.
		if module == "" {
			p.unknownOnce("option " + opt)
		}
		return nil
	}
	switch module {
	case "tcp", "udp", "udplite", "sctp", "dccp":
		implied := l4Cond(module)
		switch opt {
		case "--dport", "--destination-port":
			v, err := one(opt, vals)
			if err != nil {
				return err
			}
			p.add(implied, keyCond(kDport, neg, portRangeValue(v)))
		case "--sport", "--source-port":
			p.add(implied, unknownCond("source port"))
		case "--syn":
			p.add(implied, fixedCond(boolMatchYes(!neg), "syn"))
		case "--tcp-flags":
			if len(vals) == 2 && strings.Contains(vals[0], "SYN") && vals[1] == "SYN" {
				p.add(implied, fixedCond(boolMatchYes(!neg), "tcp flags"))
			} else {
				p.add(implied, unknownCond("tcp flags"))
			}
		default:
			p.unknownOnce(module + " " + opt)
		}
	case "multiport":
		switch opt {
		case "--dports", "--destination-ports":
			v, err := one(opt, vals)
			if err != nil {
				return err
			}
			var ports []value
			for _, part := range strings.Split(v, ",") {
				ports = append(ports, portRangeValue(part))
			}
			p.add(keyCond(kDport, neg, ports...))
		default:
			p.unknownOnce("multiport " + opt)
		}
	case "conntrack", "state":
		switch opt {
		case "--ctstate", "--state":
			p.add(listCond(kCtState, neg, vals))
		case "--ctstatus":
			p.add(listCond(kCtStatus, neg, vals))
		default:
			p.unknownOnce("conntrack " + opt)
		}
	case "addrtype":
		switch opt {
		case "--dst-type":
			p.add(listCond(kDaddrType, neg, vals))
		case "--src-type":
			p.add(listCond(kSaddrType, neg, vals))
		default:
			p.unknownOnce("addrtype " + opt)
		}
	case "hashlimit", "connlimit":
		switch opt {
		case "--hashlimit-above", "--connlimit-above":
			// A single new connection is never above a limit.
			p.add(fixedCond(boolMatchYes(neg), module))
		}
	case "recent":
		switch opt {
		case "--rcheck", "--update", "--remove":
			// The arbitrary remote address has not been seen before.
			p.add(fixedCond(boolMatchYes(neg), "recent"))
		}
	case "icmp", "icmp6", "icmpv6":
		name := "icmp"
		if module != "icmp" {
			name = "ipv6-icmp"
		}
		p.add(l4Cond(name))
	case "pkttype":
		if opt == "--pkt-type" {
			p.add(listCond(kPktType, neg, vals))
		}
	case "set":
		if opt == "--match-set" {
			if len(vals) == 2 && strings.HasPrefix(vals[1], "src") {
				p.add(cond{keys: []key{kSourceOpaque}, open: true, neg: neg})
			} else {
				p.unknownOnce("set " + strings.Join(vals[1:], ","))
			}
		}
	case "iprange", "mac", "geoip":
		switch opt {
		case "--src-range", "--mac-source", "--src-cc", "--source-country":
			p.add(cond{keys: []key{kSourceOpaque}, open: true, neg: neg})
		default:
			p.unknownOnce(module + " " + opt)
		}
	case "rpfilter":
		if opt == "--invert" {
			// A packet from a routable remote address passes the reverse-path test.
			p.add(fixedCond(mNo, "rpfilter --invert"))
		}
	}
	return nil
}

// listCond reads a comma-separated list of names (states, address types) into a condition.
func listCond(k key, neg bool, vals []string) cond {
	var list []value
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			if part != "" {
				list = append(list, strValue(strings.ToLower(part)))
			}
		}
	}
	return keyCond(k, neg, list...)
}

// portRangeValue reads "22", "8000:8100", ":1024" or "1024:".
func portRangeValue(s string) value {
	lo, hi, isRange := strings.Cut(s, ":")
	if !isRange {
		return portValue(s)
	}
	l, h := rangeValue(0, 0), rangeValue(65535, 65535)
	if lo != "" {
		l = portValue(lo)
	}
	if hi != "" {
		h = portValue(hi)
	}
	if l.kind != valRange || h.kind != valRange || l.lo > h.hi {
		return unknownValue()
	}
	return rangeValue(l.lo, h.hi)
}

// addrValue reads "10.0.0.0/8", "10.0.0.0/255.0.0.0" or "192.0.2.1"; names are a
// source restriction the evaluation does not resolve.
func addrValue(s string) value {
	addr, mask, hasMask := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return strValue("name")
	}
	bits := a.BitLen()
	if hasMask {
		if n, err := strconv.Atoi(mask); err == nil {
			bits = n
		} else if m, err := netip.ParseAddr(mask); err == nil {
			bits = maskBits(m)
		} else {
			return unknownValue()
		}
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return unknownValue()
	}
	return prefixValue(p)
}

// maskBits counts the leading ones of a netmask; a non-contiguous mask counts its ones.
func maskBits(m netip.Addr) int {
	n := 0
	for _, b := range m.AsSlice() {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) != 0 {
				n++
			}
		}
	}
	return n
}
