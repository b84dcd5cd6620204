package ingest

import (
	"encoding/json"
	"strconv"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// decodeCanonical is the fast path of Decode. It parses a payload written the way
// report.Payload.Marshal writes it — the exact lower-case field names, strings of printable
// ASCII without escapes, no nulls, no repeated keys, facts that are scalars or flat lists —
// without reflection, producing exactly the values encoding/json (with UseNumber) would:
// json.Number for numbers in facts, []any for lists. Validation is not done here; the caller
// runs Payload.Validate, the same validation report.DecodePayload runs.
//
// ok is false when the body is not in that form, which is not a verdict on its validity: the
// caller then hands it to report.DecodePayload, the reference decoder, which accepts or
// rejects it. So this path can only ever accept a subset of what DecodePayload accepts, with
// an identical result; FuzzCanonicalDecode checks exactly that. It exists because
// DecodePayload spends about 0.5 ms of CPU on a 120-result upload (encoding/json building a
// map per result), the largest single cost of an ingest (docs/benchmarks.md).
func decodeCanonical(b []byte, in internTable) (p *report.Payload, ok bool) {
	s := scanner{b: b, in: in}
	p = &report.Payload{}
	const (
		fSchema = 1 << iota
		fAudit
		fAgent
		fStarted
		fDuration
		fHost
		fScore
		fGrade
		fResults
		fDropped
	)
	seen := 0
	once := func(bit int) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "schema_version":
			return once(fSchema) && s.intInto(&p.SchemaVersion)
		case "audit_id":
			return once(fAudit) && s.strInto(&p.AuditID)
		case "agent_version":
			return once(fAgent) && s.strInto(&p.AgentVersion)
		case "started_at":
			return once(fStarted) && s.strInto(&p.StartedAt)
		case "duration_ms":
			return once(fDuration) && s.int64Into(&p.DurationMS)
		case "host":
			return once(fHost) && s.host(&p.Host)
		case "score":
			return once(fScore) && s.intInto(&p.Score)
		case "grade":
			return once(fGrade) && s.strInto(&p.Grade)
		case "results":
			return once(fResults) && s.results(&p.Results)
		case "dropped_facts":
			return once(fDropped) && s.intInto(&p.DroppedFacts)
		}
		return false
	})
	if !ok {
		return nil, false
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, false
	}
	return p, true
}

// scanner walks a JSON document; every method reports false on anything outside the
// canonical subset.
type scanner struct {
	b  []byte
	i  int
	in internTable
}

// internTable maps the strings a payload repeats (check IDs, fact keys, enum values,
// statuses, severities, reasons) to one shared copy, and to that copy already boxed as a
// fact value, so decoding them allocates nothing.
type internTable map[string]interned

type interned struct {
	s string
	v any
	// n is the string as a json.Number boxed in an interface, for the integers the table
	// holds (0 to internedIntegers-1).
	n any
}

// internedIntegers bounds the integers the table holds as numbers: every small count and the
// well-known ports, 0 to 1023.
const internedIntegers = 1024

// newInternTable builds the table from the catalog.
func newInternTable(cat *catalog.Catalog) internTable {
	t := internTable{}
	add := func(s string) { t[s] = interned{s: s, v: s} }
	for _, e := range cat.Checks {
		add(e.ID)
		for k, f := range e.Facts {
			add(k)
			for _, v := range f.Values {
				add(v)
			}
		}
	}
	for _, st := range []report.Status{report.StatusPass, report.StatusFail, report.StatusSkip, report.StatusError} {
		add(string(st))
	}
	for _, sev := range catalog.Severities() {
		add(string(sev))
	}
	for _, r := range report.Reasons() {
		add(string(r))
	}
	add(catalog.OtherValue)
	for i := range internedIntegers {
		lit := strconv.Itoa(i)
		e, ok := t[lit]
		if !ok {
			e = interned{s: lit, v: lit}
		}
		e.n = json.Number(lit)
		t[lit] = e
	}
	return t
}

// str returns b as a string, shared when the table knows it.
func (t internTable) str(b []byte) string {
	if e, ok := t[string(b)]; ok {
		return e.s
	}
	return string(b)
}

// value returns b as a string boxed in an interface, shared when the table knows it.
func (t internTable) value(b []byte) any {
	if e, ok := t[string(b)]; ok {
		return e.v
	}
	return string(b)
}

// number returns a number literal as a json.Number in an interface, shared when the table
// knows it.
func (t internTable) number(b []byte) any {
	if e, ok := t[string(b)]; ok && e.n != nil {
		return e.n
	}
	return json.Number(b)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) consume(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// object parses an object, calling field for each key with the scanner positioned before
// the value; field must consume the value. key aliases the input.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		key, ok := s.raw()
		if !ok || !s.consume(':') || !field(key) {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// raw parses a string of printable ASCII (0x20–0x7e) without escapes, whose bytes are then
// exactly the decoded string, and returns them (aliasing the input).
func (s *scanner) raw() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := s.b[start:s.i]
			s.i++
			return v, true
		}
		if c < 0x20 || c > 0x7e || c == '\\' {
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// str parses a string (see raw).
func (s *scanner) str() (string, bool) {
	b, ok := s.raw()
	if !ok {
		return "", false
	}
	return s.in.str(b), true
}

func (s *scanner) strInto(dst *string) bool {
	v, ok := s.str()
	*dst = v
	return ok
}

// number returns the literal of a JSON number (RFC 8259 grammar).
func (s *scanner) number() (string, bool) {
	b, ok := s.numberBytes()
	return string(b), ok
}

// numberBytes scans a JSON number and returns its literal, which aliases the input.
func (s *scanner) numberBytes() ([]byte, bool) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return nil, false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return nil, false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// intBits parses an integer literal the way encoding/json fills an integer field of that
// many bits: strconv.ParseInt of the literal, which refuses fractions and exponents.
func (s *scanner) intBits(bits int) (int64, bool) {
	lit, ok := s.number()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(lit, 10, bits)
	return n, err == nil
}

func (s *scanner) int64Into(dst *int64) bool {
	n, ok := s.intBits(64)
	*dst = n
	return ok
}

func (s *scanner) intInto(dst *int) bool {
	n, ok := s.intBits(strconv.IntSize)
	*dst = int(n)
	return ok
}

func (s *scanner) literal(word string) bool {
	s.ws()
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

func (s *scanner) boolean() (bool, bool) {
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, false
}

func (s *scanner) host(h *report.PayloadHost) bool {
	seen := 0
	once := func(bit int) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "os":
			return once(1) && s.strInto(&h.OS)
		case "arch":
			return once(2) && s.strInto(&h.Arch)
		case "distro":
			return once(4) && s.strInto(&h.Distro)
		case "distro_version":
			return once(8) && s.strInto(&h.DistroVersion)
		case "kernel":
			return once(16) && s.strInto(&h.Kernel)
		case "live":
			var ok bool
			h.Live, ok = s.boolean()
			return once(32) && ok
		}
		return false
	})
}

func (s *scanner) results(dst *[]report.PayloadResult) bool {
	if !s.consume('[') {
		return false
	}
	out := make([]report.PayloadResult, 0, 128)
	if s.consume(']') {
		*dst = out
		return true
	}
	for {
		out = append(out, report.PayloadResult{})
		if !s.result(&out[len(out)-1]) {
			return false
		}
		if s.consume(',') {
			continue
		}
		if !s.consume(']') {
			return false
		}
		*dst = out
		return true
	}
}

func (s *scanner) result(r *report.PayloadResult) bool {
	seen := 0
	once := func(bit int) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return once(1) && s.strInto(&r.ID)
		case "status":
			v, ok := s.str()
			r.Status = report.Status(v)
			return once(2) && ok
		case "severity":
			v, ok := s.str()
			r.Severity = catalog.Severity(v)
			return once(4) && ok
		case "reason":
			v, ok := s.str()
			r.Reason = report.Reason(v)
			return once(8) && ok
		case "facts":
			return once(16) && s.facts(&r.Facts)
		}
		return false
	})
}

func (s *scanner) facts(dst *map[string]any) bool {
	m := map[string]any{}
	ok := s.object(func(b []byte) bool {
		if _, dup := m[string(b)]; dup {
			return false
		}
		v, ok := s.factValue(true)
		m[s.in.str(b)] = v
		return ok
	})
	*dst = m
	return ok
}

// factValue parses a string, number, boolean or (when list is true) a flat list of those.
func (s *scanner) factValue(list bool) (any, bool) {
	switch c := s.peek(); {
	case c == '"':
		b, ok := s.raw()
		if !ok {
			return nil, false
		}
		return s.in.value(b), true
	case c == 't' || c == 'f':
		return s.boolean()
	case c == '-' || c >= '0' && c <= '9':
		lit, ok := s.numberBytes()
		if !ok {
			return nil, false
		}
		return s.in.number(lit), true
	case c == '[' && list:
		s.i++
		items := []any{}
		if s.consume(']') {
			return items, true
		}
		for {
			v, ok := s.factValue(false)
			if !ok {
				return nil, false
			}
			items = append(items, v)
			if s.consume(',') {
				continue
			}
			return items, s.consume(']')
		}
	}
	return nil, false
}
