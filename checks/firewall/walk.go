package firewall

import "strconv"

// This file follows a modelled packet through chains: jumps, gotos, returns and verdicts.

// walkMode selects how partial matches are treated.
type walkMode uint8

const (
	// modeExact tracks partial matches (source-restricted and undecidable rules).
	modeExact walkMode = iota
	// modeDefault treats partial matches as no match: it follows the path of traffic that
	// no specific rule names, to find the effective default verdict.
	modeDefault
)

// Bounds of a walk: netfilter itself refuses jump depths beyond 16; the step bound stops
// pathological inputs (chains jumping many times into chains that jump many times).
const (
	maxDepth = 32
	maxSteps = 200000
)

// walker evaluates one base chain for one packet.
type walker struct {
	p    packet
	mode walkMode

	steps int
	// final is the verdict that decided every packet, vNone while undecided.
	final verdictKind
	// by and byRule locate what decided: a rule, or the policy of by when byRule is nil.
	by     *chain
	byRule *rule
	// someAccepted: some sources were accepted by a source-restricted rule.
	someAccepted bool
	// maybeAccepted, maybeDropped: an undecidable rule may have accepted or dropped.
	maybeAccepted, maybeDropped bool
	// truncated: the walk hit its bounds.
	truncated bool
	// device: the base chain is attached to some devices only.
	device bool
	// walked remembers the chains walked under each context: walking a chain again under
	// the same context records the same verdicts, so its result is reused. This keeps
	// chains reached by many jumps from being walked an exponential number of times.
	walked map[walkKey]walkMemo
}

// walkKey is a chain walked under a context.
type walkKey struct {
	c   *chain
	ctx match
}

// walkMemo is the outcome of walking a chain, or a walk in progress (a jump loop).
type walkMemo struct {
	done, decided bool
}

// walkBase evaluates a base chain from scratch.
func walkBase(c *chain, p packet, mode walkMode) *walker {
	w := &walker{p: p, mode: mode, device: c.device, walked: map[walkKey]walkMemo{}}
	ctx := mYes
	if c.device {
		// A per-device chain sees the packet only when it arrives on that device.
		ctx = mUnknown
	}
	w.walk(c, ctx, 0)
	return w
}

// walk evaluates chain c for the packets reaching it under ctx (mYes: every modelled
// packet; mSource, mUnknown: some of them). It reports whether every such packet got a
// terminal verdict; otherwise they return to the caller.
func (w *walker) walk(c *chain, ctx match, depth int) bool {
	k := walkKey{c, ctx}
	memo, seen := w.walked[k]
	switch {
	case seen && memo.done:
		return memo.decided
	case seen || depth > maxDepth:
		// A jump loop (netfilter refuses them) or a chain too deep.
		w.truncated = true
		w.record(vUnknown, ctx, c, nil)
		return ctx == mYes
	}
	w.walked[k] = walkMemo{}
	decided := w.walkRules(c, ctx, depth)
	w.walked[k] = walkMemo{done: true, decided: decided}
	return decided
}

// walkRules walks the rules of chain c; see walk.
func (w *walker) walkRules(c *chain, ctx match, depth int) bool {
	for i := range c.rules {
		r := &c.rules[i]
		if w.steps++; w.steps > maxSteps {
			w.truncated = true
			w.record(vUnknown, ctx, c, r)
			return ctx == mYes
		}
		rc := r.match(w.p)
		if w.mode == modeDefault && rc != mYes {
			rc = mNo
		}
		if rc == mNo {
			continue
		}
		m := and(ctx, rc)
		switch r.verdict.kind {
		case vAccept, vDrop, vReject, vQueue:
			w.record(r.verdict.kind, m, c, r)
			if rc == mYes {
				return true
			}
		case vUnknown:
			w.record(vUnknown, m, c, r)
		case vReturn:
			if c.base {
				// A return in a base chain applies the policy.
				w.record(c.policy, m, c, nil)
				if rc == mYes {
					return true
				}
				continue
			}
			if rc == mYes {
				return false
			}
			if rc == mUnknown {
				// Some packets left; the rest of the chain sees only the others.
				ctx = and(ctx, mUnknown)
			}
		case vJump, vGoto:
			target := c.table.chains[r.verdict.target]
			if target == nil || target.base || target == c {
				w.record(vUnknown, m, c, r)
				continue
			}
			if w.walk(target, m, depth+1) && rc == mYes {
				return true
			}
			if r.verdict.kind == vGoto && rc == mYes {
				// The target returned: a goto returns from this chain too, which in a
				// base chain means its policy.
				if c.base {
					w.record(c.policy, ctx, c, nil)
					return true
				}
				return false
			}
		}
	}
	if c.base {
		w.record(c.policy, ctx, c, nil)
		return true
	}
	return false
}

// record notes a verdict reached by the packets matching m.
func (w *walker) record(v verdictKind, m match, c *chain, r *rule) {
	if w.final != vNone {
		return
	}
	switch v {
	case vAccept:
		switch m {
		case mYes:
			w.decide(v, c, r)
		case mSource:
			w.someAccepted = true
		case mUnknown:
			w.maybeAccepted = true
		}
	case vDrop, vReject:
		switch m {
		case mYes:
			w.decide(v, c, r)
		case mUnknown:
			w.maybeDropped = true
		}
		// A source-restricted drop does not drop the arbitrary remote address.
	case vQueue:
		if m == mYes {
			w.decide(v, c, r)
			return
		}
		w.maybeAccepted, w.maybeDropped = true, true
	default:
		w.maybeAccepted, w.maybeDropped = true, true
	}
}

func (w *walker) decide(v verdictKind, c *chain, r *rule) {
	w.final, w.by, w.byRule = v, c, r
}

// admission turns the walk of one base chain into an Admission.
func (w *walker) admission() Admission {
	if w.truncated {
		return AdmitUnknown
	}
	switch w.final {
	case vAccept:
		if w.maybeDropped {
			return AdmitUnknown
		}
		return Admitted
	case vDrop, vReject:
		switch {
		case w.maybeAccepted:
			return AdmitUnknown
		case w.someAccepted:
			return Restricted
		}
		return Blocked
	case vNone:
		// A per-device chain decides nothing for every packet (it sees some of them
		// only); any other base chain always decides.
		if w.device && !w.maybeDropped {
			return Admitted
		}
	}
	return AdmitUnknown
}

// combine joins the admissions of the base chains a packet traverses in turn: it must be
// accepted by each, so any drop wins, and a source restriction anywhere restricts.
func combine(list []Admission) Admission {
	out := Admitted
	for _, a := range list {
		switch {
		case a == Blocked:
			return Blocked
		case a == Restricted:
			out = Restricted
		case a == AdmitUnknown && out == Admitted:
			out = AdmitUnknown
		}
	}
	return out
}

// evaluate returns the admission of packet p to a local socket through every chain on its
// way. Destination NAT is not followed: a rule that rewrites the destination makes the
// admission unknown, as the packet then takes another path.
func evaluate(tables []*table, p packet) Admission {
	out := Admitted
	for _, c := range inboundChains(tables, p.v6) {
		a := walkBase(c, p, modeExact).admission()
		if c.ctype == "nat" && a == AdmitUnknown {
			// The destination may be rewritten: the chains after this one may not see
			// the packet at all, so their drops do not count.
			return combine([]Admission{out, a})
		}
		if out = combine([]Admission{out, a}); out == Blocked {
			return Blocked
		}
	}
	return out
}

// defaultVerdict is the effective default of one address family and protocol: what
// happens to new traffic that no specific rule names.
type defaultVerdict struct {
	// verdict is vAccept, vDrop, vReject, vQueue or vUnknown; vNone when no base chain
	// filters the hook for the family.
	verdict verdictKind
	// chain and rule locate what decided (rule nil: the chain's policy).
	chain *chain
	rule  *rule
	// broad lists explicit rules that accept such traffic, when they decide.
	broad []located
}

// located is a rule in its chain, for the local report.
type located struct {
	chain *chain
	rule  *rule
}

func (l located) String() string {
	if l.rule == nil {
		return "policy of " + l.chain.label()
	}
	return "rule " + strconv.Itoa(l.rule.pos) + " of " + l.chain.label()
}

// defaultPath follows traffic of one family and protocol to a port no rule names through
// the base chains on hooks and returns the effective default verdict.
func defaultPath(tables []*table, p packet, hooks ...string) defaultVerdict {
	p.port = anyPort
	chains := baseChains(tables, p.v6, hooks...)
	out := defaultVerdict{verdict: vNone}
	var accepts []located
	for _, c := range chains {
		if c.device {
			continue
		}
		w := walkBase(c, p, modeDefault)
		v := w.final
		if w.truncated {
			v = vUnknown
		}
		switch v {
		case vAccept:
			if out.verdict == vNone {
				out.verdict, out.chain, out.rule = vAccept, w.by, w.byRule
			}
			if w.byRule != nil {
				accepts = append(accepts, located{w.by, w.byRule})
			}
		case vDrop, vReject, vQueue, vUnknown:
			out.verdict, out.chain, out.rule = v, w.by, w.byRule
			if w.by == nil {
				out.chain = c
			}
			return out
		}
	}
	if out.verdict == vAccept {
		out.broad = accepts
	}
	return out
}
