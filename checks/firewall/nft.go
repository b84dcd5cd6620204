package firewall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
)

// This file reads the output of `nft -j list ruleset` (libnftables JSON schema 1) into the
// model. Expressions it does not know become unknown conditions, statements it does not know
// unknown verdicts, so that an unfamiliar rule makes the evaluation uncertain, not wrong.

// nftChainJSON is a chain object.
type nftChainJSON struct {
	Family string          `json:"family"`
	Table  string          `json:"table"`
	Name   string          `json:"name"`
	Type   string          `json:"type"`
	Hook   string          `json:"hook"`
	Prio   json.RawMessage `json:"prio"`
	Policy string          `json:"policy"`
	Dev    json.RawMessage `json:"dev"`
}

// nftRuleJSON is a rule object. Its expressions stay raw until the rule is read, so that
// rules of skipped tables cost little.
type nftRuleJSON struct {
	Family string          `json:"family"`
	Table  string          `json:"table"`
	Chain  string          `json:"chain"`
	Expr   json.RawMessage `json:"expr"`
}

// nftSetJSON is a set or map object.
type nftSetJSON struct {
	Family string            `json:"family"`
	Table  string            `json:"table"`
	Name   string            `json:"name"`
	Map    json.RawMessage   `json:"map"`
	Flags  json.RawMessage   `json:"flags"`
	Elem   []json.RawMessage `json:"elem"`
}

// nftSet is a named set or map of a table.
type nftSet struct {
	elems []json.RawMessage
	// dynamic: elements come and go at run time (timeouts, dynamic flag); the listed
	// ones are a snapshot.
	dynamic bool
}

// nftParser holds the tables and named sets while the rules are read.
type nftParser struct {
	tables map[string]*table
	sets   map[string]*nftSet
	order  []*table
}

func nftFamily(s string) (fam, bool) {
	switch s {
	case "inet":
		return famInet, true
	case "ip":
		return famIPv4, true
	case "ip6":
		return famIPv6, true
	case "netdev":
		return famNetdev, true
	case "arp", "bridge":
		return famOther, true
	}
	return famOther, false
}

func tableKey(family, name string) string { return family + "\x00" + name }

// nftTableJSON is a table object.
type nftTableJSON struct {
	Family string `json:"family"`
	Name   string `json:"name"`
}

// nftObject is one element of the "nftables" array; at most one field is set (metainfo,
// flowtables, counters and the like are ignored).
type nftObject struct {
	Table *nftTableJSON `json:"table"`
	Chain *nftChainJSON `json:"chain"`
	Set   *nftSetJSON   `json:"set"`
	Map   *nftSetJSON   `json:"map"`
	Rule  *nftRuleJSON  `json:"rule"`
}

// parseNft parses `nft -j list ruleset` output. Empty output is an empty ruleset. The
// tables in skip (by tableKey) are left out.
func parseNft(data []byte, skip map[string]bool) ([]*table, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc struct {
		Nftables []nftObject `json:"nftables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse nft JSON: %v: %w", err, checks.ErrParse)
	}
	if doc.Nftables == nil {
		return nil, fmt.Errorf("parse nft JSON: no \"nftables\" array: %w", checks.ErrParse)
	}
	p := &nftParser{tables: map[string]*table{}, sets: map[string]*nftSet{}}
	skipped := func(family, tableName string) bool { return skip[tableKey(family, tableName)] }
	// Objects refer to tables, chains and sets by name; read those before the rules.
	for i, obj := range doc.Nftables {
		var err error
		switch {
		case obj.Table != nil && !skipped(obj.Table.Family, obj.Table.Name):
			err = p.table(*obj.Table)
		case obj.Chain != nil && !skipped(obj.Chain.Family, obj.Chain.Table):
			err = p.chain(*obj.Chain)
		case obj.Set != nil && !skipped(obj.Set.Family, obj.Set.Table):
			p.set(*obj.Set)
		case obj.Map != nil && !skipped(obj.Map.Family, obj.Map.Table):
			p.set(*obj.Map)
		}
		if err != nil {
			return nil, fmt.Errorf("parse nft JSON object %d: %w", i, err)
		}
	}
	for i, obj := range doc.Nftables {
		if obj.Rule == nil || skipped(obj.Rule.Family, obj.Rule.Table) {
			continue
		}
		if err := p.rule(*obj.Rule); err != nil {
			return nil, fmt.Errorf("parse nft JSON object %d (rule): %w", i, err)
		}
	}
	return p.order, nil
}

func parseErr(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, checks.ErrParse)...)
}

func (p *nftParser) table(t nftTableJSON) error {
	f, ok := nftFamily(t.Family)
	if !ok || t.Name == "" {
		return parseErr("table %q of unknown family %q", t.Name, t.Family)
	}
	k := tableKey(t.Family, t.Name)
	if p.tables[k] == nil {
		p.tables[k] = newTable(f, t.Name, backendNft)
		p.order = append(p.order, p.tables[k])
	}
	return nil
}

func (p *nftParser) set(s nftSetJSON) {
	// Flags are a list, or a single string in some nft versions.
	var flags []string
	var flag string
	if json.Unmarshal(s.Flags, &flags) != nil && json.Unmarshal(s.Flags, &flag) == nil {
		flags = []string{flag}
	}
	dynamic := slices.Contains(flags, "dynamic") || slices.Contains(flags, "timeout")
	p.sets[tableKey(s.Family, s.Table)+"\x00"+s.Name] = &nftSet{elems: s.Elem, dynamic: dynamic}
}

func (p *nftParser) chain(c nftChainJSON) error {
	t := p.tables[tableKey(c.Family, c.Table)]
	if t == nil || c.Name == "" {
		return parseErr("chain %q of unknown table %s %s", c.Name, c.Family, c.Table)
	}
	ch := t.addChain(c.Name)
	if c.Hook == "" {
		return nil
	}
	ch.base, ch.ctype, ch.hook = true, c.Type, c.Hook
	if ch.ctype == "" {
		ch.ctype = "filter"
	}
	prio, err := nftPriority(c.Prio)
	if err != nil {
		return err
	}
	ch.prio = prio
	switch c.Policy {
	case "", "accept":
		ch.policy = vAccept
	case "drop":
		ch.policy = vDrop
	default:
		return parseErr("chain %q: unknown policy %q", c.Name, c.Policy)
	}
	ch.device = t.family == famNetdev || c.Hook == hookIngress || len(c.Dev) > 0
	return nil
}

// nftPriority reads a chain priority: a number, or a standard name with an offset
// ("filter", "mangle - 5") as some versions print it.
func nftPriority(raw json.RawMessage) (int, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, parseErr("chain priority %s", raw)
	}
	fields := strings.Fields(s)
	if len(fields) != 1 && len(fields) != 3 {
		return 0, parseErr("chain priority %q", s)
	}
	base, ok := map[string]int{"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}[fields[0]]
	if !ok {
		if n, err := strconv.Atoi(fields[0]); err == nil && len(fields) == 1 {
			return n, nil
		}
		return 0, parseErr("chain priority %q", s)
	}
	if len(fields) == 3 {
		off, err := strconv.Atoi(fields[2])
		if err != nil || (fields[1] != "+" && fields[1] != "-") {
			return 0, parseErr("chain priority %q", s)
		}
		if fields[1] == "-" {
			off = -off
		}
		base += off
	}
	return base, nil
}

func (p *nftParser) rule(r nftRuleJSON) error {
	t := p.tables[tableKey(r.Family, r.Table)]
	if t == nil {
		return parseErr("rule of unknown table %s %s", r.Family, r.Table)
	}
	c := t.chains[r.Chain]
	if c == nil {
		return parseErr("rule of unknown chain %q", r.Chain)
	}
	var exprs []json.RawMessage
	if len(r.Expr) > 0 {
		if err := json.Unmarshal(r.Expr, &exprs); err != nil {
			return parseErr("rule expressions: %v", err)
		}
	}
	b := &nftRuleBuilder{p: p, family: r.Family, table: r.Table}
	for _, e := range exprs {
		if err := b.expr(e); err != nil {
			return err
		}
	}
	pos := 0
	if len(c.rules) > 0 {
		pos = c.rules[len(c.rules)-1].pos
	}
	pos++
	t.rules++
	if b.log {
		t.logRules++
	}
	for _, nr := range b.rules() {
		nr.pos = pos
		c.rules = append(c.rules, nr)
	}
	return nil
}

// nftRuleBuilder collects the conditions and verdict of one rule.
type nftRuleBuilder struct {
	p             *nftParser
	family, table string
	conds         []cond
	log           bool
	verdict       verdict
	// vmap: the rule ends in a verdict map, expanded into one rule per element.
	vmap []vmapEntry
}

// vmapEntry is one element of a verdict map: the packets matching c get v.
type vmapEntry struct {
	conds []cond
	v     verdict
}

// rules returns the model rules: one, or one per verdict map element.
func (b *nftRuleBuilder) rules() []rule {
	if b.vmap == nil {
		return []rule{{conds: b.conds, verdict: b.verdict, log: b.log}}
	}
	var out []rule
	for _, e := range b.vmap {
		conds := append(slices.Clip(b.conds), e.conds...)
		out = append(out, rule{conds: conds, verdict: e.v, log: b.log})
	}
	return out
}

// setVerdict records the rule's verdict; a later one (after a terminal) is ignored, as
// nft never prints one.
func (b *nftRuleBuilder) setVerdict(v verdict) {
	if b.verdict.kind == vNone && b.vmap == nil {
		b.verdict = v
	}
}

func (b *nftRuleBuilder) expr(raw json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
		return parseErr("rule expression %.80s", raw)
	}
	for name, body := range obj {
		return b.statement(name, body)
	}
	return nil
}

// statement reads one statement of a rule.
func (b *nftRuleBuilder) statement(name string, body json.RawMessage) error {
	switch name {
	case "match":
		var m struct {
			Op    string          `json:"op"`
			Left  json.RawMessage `json:"left"`
			Right json.RawMessage `json:"right"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return parseErr("match: %v", err)
		}
		b.conds = append(b.conds, b.matchConds(m.Op, m.Left, m.Right)...)
	case "accept":
		b.setVerdict(verdict{kind: vAccept})
	case "drop":
		b.setVerdict(verdict{kind: vDrop})
	case "reject":
		b.setVerdict(verdict{kind: vReject})
	case "return":
		b.setVerdict(verdict{kind: vReturn})
	case "queue":
		b.setVerdict(verdict{kind: vQueue})
	case "continue":
	case "jump", "goto":
		var j struct {
			Target string `json:"target"`
		}
		if err := json.Unmarshal(body, &j); err != nil || j.Target == "" {
			return parseErr("%s without a target", name)
		}
		kind := vJump
		if name == "goto" {
			kind = vGoto
		}
		b.setVerdict(verdict{kind: kind, target: j.Target})
	case "vmap":
		return b.verdictMap(body)
	case "log":
		b.log = true
	case "counter", "mangle", "notrack", "dup", "set", "map", "ct helper", "ct timeout",
		"ct expectation", "secmark", "flow", "last", "meta", "ct":
		// Statements that neither match nor decide.
	case "limit", "quota", "ct count":
		// Rate and quota conditions: a single new connection stays under any limit,
		// so "rate 10/minute" matches it and "rate over 10/minute" does not.
		var l struct {
			Inv bool `json:"inv"`
		}
		_ = json.Unmarshal(body, &l)
		b.conds = append(b.conds, fixedCond(boolMatchYes(!l.Inv), name))
	case "meter":
		b.conds = append(b.conds, b.meterCond(body))
	case "xt":
		b.xt(body)
	case "synproxy", "tproxy", "fwd", "dnat", "snat", "masquerade", "redirect":
		b.setVerdict(verdict{kind: vUnknown})
	default:
		b.conds = append(b.conds, unknownCond("statement "+name))
	}
	return nil
}

func boolMatchYes(b bool) match {
	if b {
		return mYes
	}
	return mNo
}

// meterCond reads a meter: a per-key limit, judged like a limit.
func (b *nftRuleBuilder) meterCond(body json.RawMessage) cond {
	var m struct {
		Stmt map[string]json.RawMessage `json:"stmt"`
	}
	if json.Unmarshal(body, &m) == nil {
		if l, ok := m.Stmt["limit"]; ok {
			var lim struct {
				Inv bool `json:"inv"`
			}
			if json.Unmarshal(l, &lim) == nil {
				return fixedCond(boolMatchYes(!lim.Inv), "meter")
			}
		}
	}
	return unknownCond("meter")
}

// xt reads an iptables-nft extension that nft cannot show: matches are unknown, the
// common targets are recognised by name.
func (b *nftRuleBuilder) xt(body json.RawMessage) {
	var x struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &x)
	switch x.Type {
	case "match":
		if x.Name != "comment" {
			b.conds = append(b.conds, unknownCond("xt match "+x.Name))
		}
	case "target":
		v, log := iptablesTarget(x.Name)
		b.log = b.log || log
		if v != vNone {
			b.setVerdict(verdict{kind: v})
		}
	}
}

// verdictMap expands "KEY vmap { v1 : accept, v2 : drop }".
func (b *nftRuleBuilder) verdictMap(body json.RawMessage) error {
	var vm struct {
		Key  json.RawMessage `json:"key"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &vm); err != nil {
		return parseErr("vmap: %v", err)
	}
	var elems []json.RawMessage
	var inline struct {
		Set []json.RawMessage `json:"set"`
	}
	var name string
	switch {
	case json.Unmarshal(vm.Data, &name) == nil && strings.HasPrefix(name, "@"):
		s := b.p.sets[tableKey(b.family, b.table)+"\x00"+name[1:]]
		if s == nil {
			b.vmap = []vmapEntry{{conds: []cond{unknownCond("vmap " + name)}, v: verdict{kind: vUnknown}}}
			return nil
		}
		elems = s.elems
	case json.Unmarshal(vm.Data, &inline) == nil:
		elems = inline.Set
	default:
		return parseErr("vmap data %.80s", vm.Data)
	}
	b.vmap = []vmapEntry{}
	for _, e := range elems {
		var pair []json.RawMessage
		if err := json.Unmarshal(e, &pair); err != nil || len(pair) != 2 {
			return parseErr("vmap element %.80s", e)
		}
		v, err := nftVerdict(pair[1])
		if err != nil {
			return err
		}
		conds := b.matchConds("==", vm.Key, pair[0])
		b.vmap = append(b.vmap, vmapEntry{conds: conds, v: v})
	}
	return nil
}

// nftVerdict reads a verdict object: {"accept": null}, {"jump": {"target": "x"}}.
func nftVerdict(raw json.RawMessage) (verdict, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
		return verdict{}, parseErr("verdict %.80s", raw)
	}
	for name, body := range obj {
		switch name {
		case "accept":
			return verdict{kind: vAccept}, nil
		case "drop":
			return verdict{kind: vDrop}, nil
		case "reject":
			return verdict{kind: vReject}, nil
		case "return":
			return verdict{kind: vReturn}, nil
		case "continue":
			return verdict{kind: vNone}, nil
		case "queue":
			return verdict{kind: vQueue}, nil
		case "jump", "goto":
			var j struct {
				Target string `json:"target"`
			}
			if err := json.Unmarshal(body, &j); err != nil || j.Target == "" {
				return verdict{}, parseErr("%s without a target", name)
			}
			if name == "goto" {
				return verdict{kind: vGoto, target: j.Target}, nil
			}
			return verdict{kind: vJump, target: j.Target}, nil
		}
	}
	return verdict{kind: vUnknown}, nil
}
