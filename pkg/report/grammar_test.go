package report_test

// The grammar tests feed arbitrary strings and values through the checks' result builders
// and report.Payload, and assert that every string in the resulting wire payload belongs
// to the declared grammar: structural keys, declared fact keys, catalog IDs, status,
// severity, reason and grade codes, declared enum values or "other", versions, object ids,
// the audit id, the timestamp and the host enums. Nothing a check writes as a message or
// detail, and no fact value outside its schema, may ever reach the wire.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
)

// Keys of the payload's own objects, from the wire types' JSON tags.
var (
	topKeys    = []string{"schema_version", "audit_id", "agent_version", "started_at", "duration_ms", "host", "score", "grade", "results", "dropped_facts"}
	hostKeys   = []string{"os", "arch", "distro", "distro_version", "kernel", "live"}
	resultKeys = []string{"id", "status", "severity", "reason", "facts"}
)

// grammarCatalog is a catalog and the grammar of payloads built against it.
type grammarCatalog struct {
	name     string
	cat      *catalog.Catalog
	entries  []catalog.Entry
	keys     map[string]bool // every key a payload may contain
	literals map[string]bool // every fixed string value a payload may contain
	enumVals []string
}

func newGrammarCatalog(name string, cat *catalog.Catalog) *grammarCatalog {
	g := &grammarCatalog{name: name, cat: cat, keys: map[string]bool{}, literals: map[string]bool{}}
	for _, k := range slices.Concat(topKeys, hostKeys, resultKeys) {
		g.keys[k] = true
	}
	add := func(vals ...string) {
		for _, v := range vals {
			g.literals[v] = true
		}
	}
	add(catalog.OtherValue)
	add(report.KnownOS...)
	add(report.KnownArch...)
	add(report.KnownDistros...)
	add(score.Grades()...)
	for _, s := range []report.Status{report.StatusPass, report.StatusFail, report.StatusSkip, report.StatusError} {
		add(string(s))
	}
	for _, s := range catalog.Severities() {
		add(string(s))
	}
	for _, r := range report.Reasons() {
		add(string(r))
	}
	for _, id := range cat.IDs() {
		e, _ := cat.Lookup(id)
		g.entries = append(g.entries, e)
		add(e.ID)
		for k, s := range e.Facts {
			g.keys[k] = true
			add(s.Values...)
			g.enumVals = append(g.enumVals, s.Values...)
		}
	}
	return g
}

// isTimestamp reports whether s is an RFC 3339 UTC timestamp in whole seconds.
func isTimestamp(s string) bool {
	t, err := time.Parse(time.RFC3339, s)
	return err == nil && strings.HasSuffix(s, "Z") && t.UTC().Format(time.RFC3339) == s
}

// allowsValue reports whether s is a string value of the payload grammar.
func (g *grammarCatalog) allowsValue(s string) bool {
	return g.literals[s] || catalog.VersionPattern.MatchString(s) || catalog.ObjectPattern.MatchString(s) ||
		uuidV7.MatchString(s) || isTimestamp(s)
}

// gen produces arbitrary inputs. Strings come from pool (fuzz inputs) or are generated.
type gen struct {
	rng  *rand.Rand
	pool []string
	ints []int64
	gc   *grammarCatalog
}

func newGen(seed uint64, pool []string, ints []int64, gc *grammarCatalog) *gen {
	return &gen{rng: rand.New(rand.NewPCG(seed, 0x5eed)), pool: pool, ints: ints, gc: gc}
}

const (
	alnum   = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	verSeps = ".-+~:_"
)

func (g *gen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *gen) fromAlphabet(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// versionLike returns a string that looks like a version; long ones exceed 64 characters.
func (g *gen) versionLike(long bool) string {
	var b strings.Builder
	parts := 1 + g.rng.IntN(5)
	if long {
		parts = 20 + g.rng.IntN(20)
	}
	for i := range parts {
		if i > 0 {
			b.WriteByte(verSeps[g.rng.IntN(len(verSeps))])
		}
		b.WriteString(g.fromAlphabet(alnum, 1+g.rng.IntN(4)))
	}
	return b.String()
}

var nastyStrings = []string{
	`"`, `\`, "\n", "\t", "\x00", "\u2028", "\ufeff", "</script><script>alert(1)</script>", `{"a":1}`, `["x"]`,
	"%s%d%!(EXTRA)", "${HOME}", "$(id)", "' OR 1=1 --", "password=hunter2", "AKIAIOSFODNN7EXAMPLE",
	"-----BEGIN OPENSSH PRIVATE KEY-----", "/etc/shadow", "/root/.ssh/id_ed25519", "web-01.example.com",
	"10.0.0.1", "::1", "root", "admin@example.com", "日本語", "ñandú", "😀", "\u202eevil", "\xff\xfe\xfd",
	"1.2.3 beta", "OpenSSH_9.2p1 Debian-2", "9.2p1", "6.1.0-18-amd64", "other", "yes", "tcp", "N/A",
	"pass", "critical", "not_found", "test.alpha", "0123456789abcdef0123456789abcdef",
	"0123456789ABCDEF0123456789ABCDEF", "42", "-1", "1e3", "9223372036854775808", "true", "null", "",
}

func (g *gen) str() string {
	if len(g.pool) > 0 && g.rng.IntN(10) < 7 {
		return g.pick(g.pool)
	}
	switch g.rng.IntN(12) {
	case 0: // arbitrary bytes, often invalid UTF-8
		b := make([]byte, g.rng.IntN(40))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return string(b)
	case 1: // printable ASCII
		b := make([]byte, g.rng.IntN(80))
		for i := range b {
			b[i] = byte(' ' + g.rng.IntN(95))
		}
		return string(b)
	case 2, 3:
		return g.versionLike(false)
	case 4:
		return g.versionLike(true)
	case 5, 6:
		return g.pick(nastyStrings)
	case 7:
		if len(g.gc.enumVals) > 0 {
			return g.pick(g.gc.enumVals)
		}
		return catalog.OtherValue
	case 8:
		return g.fromAlphabet("0123456789abcdef", 32)
	case 9: // random unicode
		var b strings.Builder
		for range g.rng.IntN(20) {
			b.WriteRune(rune(g.rng.IntN(0x10FFFF)))
		}
		return b.String()
	case 10:
		return g.fromAlphabet(alnum, 1+g.rng.IntN(70))
	}
	return g.pick(nastyStrings) + g.versionLike(false)
}

var edgeInts = []int64{0, 1, -1, 2, 22, 100, 101, 1000, 65535, 65536, -65535, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1}

func (g *gen) int64() int64 {
	switch {
	case len(g.ints) > 0 && g.rng.IntN(2) == 0:
		return g.ints[g.rng.IntN(len(g.ints))]
	case g.rng.IntN(2) == 0:
		return edgeInts[g.rng.IntN(len(edgeInts))]
	case g.rng.IntN(2) == 0:
		return g.rng.Int64N(2000) - 1000
	}
	return int64(g.rng.Uint64())
}

func (g *gen) strs() []string {
	out := make([]string, g.rng.IntN(8))
	for i := range out {
		out[i] = g.str()
	}
	return out
}

func (g *gen) int64s() []int64 {
	out := make([]int64, g.rng.IntN(8))
	for i := range out {
		out[i] = g.int64()
	}
	if g.rng.IntN(10) == 0 {
		out = make([]int64, 60+g.rng.IntN(10)) // around DefaultMaxItems
	}
	return out
}

// raw returns an arbitrary Go value of a kind the builders cannot produce.
func (g *gen) raw(depth int) any {
	switch g.rng.IntN(16) {
	case 0:
		return nil
	case 1:
		return g.rng.Float64() * 1e6
	case 2:
		return float64(g.rng.IntN(100))
	case 3:
		return []float64{math.NaN(), math.Inf(1), 0x1p63}[g.rng.IntN(3)]
	case 4:
		return uint64(math.MaxUint64) - uint64(g.rng.IntN(3))
	case 5:
		return json.Number(g.pick([]string{"42", "1.5", "1e2", "99999999999999999999", g.str()}))
	case 6:
		return g.rng.IntN(2) == 0
	case 7:
		return int(g.int64())
	case 8:
		return []bool{true, false}
	case 9:
		return map[string]any{g.str(): g.str()}
	case 10:
		return struct{ Secret string }{g.str()}
	case 11:
		return []int{int(g.int64()), 3}
	case 12:
		return [2]string{g.str(), g.str()}
	}
	if depth > 2 {
		return g.str()
	}
	out := make([]any, g.rng.IntN(4))
	for i := range out {
		out[i] = g.raw(depth + 1)
	}
	return out
}

// builderKinds is the number of ways fact sets a fact.
const builderKinds = 11

// fact sets key on res with builder kind (0–10), using s and n as the payload.
func (g *gen) fact(res checks.Result, kind int, key, s string, n int64) checks.Result {
	switch kind {
	case 0:
		return res.Bool(key, len(s)%2 == 0)
	case 1:
		return res.Int(key, n)
	case 2:
		return res.Ints(key, []int64{n, int64(len(s)), n})
	case 3:
		return res.Enum(key, s)
	case 4:
		return res.Enums(key, []string{s, catalog.OtherValue, s})
	case 5:
		return res.Version(key, s)
	case 6:
		return res.Port(key, int(n))
	case 7:
		return res.Object(key, s)
	case 8:
		return res.Enums(key, []string{s}) // a one-item list of any string type
	case 9: // a nested list, set directly
		facts := maps.Clone(res.Facts)
		if facts == nil {
			facts = report.Facts{}
		}
		facts[key] = []any{[]any{s, n}, s}
		res.Facts = facts
		return res
	}
	facts := maps.Clone(res.Facts)
	if facts == nil {
		facts = report.Facts{}
	}
	facts[key] = g.raw(0)
	res.Facts = facts
	return res
}

// randomFact sets key to a random value through a random builder.
func (g *gen) randomFact(res checks.Result, key string, schema catalog.FactSchema) checks.Result {
	switch g.rng.IntN(14) {
	case 0:
		return res.Bool(key, g.rng.IntN(2) == 0)
	case 1:
		return res.Int(key, g.int64())
	case 2:
		return res.Ints(key, g.int64s())
	case 3:
		return res.Enum(key, g.str())
	case 4:
		return res.Enums(key, g.strs())
	case 5:
		return res.Version(key, g.str())
	case 6:
		return res.Port(key, int(g.int64()))
	case 7:
		return res.Object(key, g.str())
	case 8, 9, 10, 11: // a value of the declared type, so that many facts are kept
		return g.typedFact(res, key, schema)
	case 12:
		return g.fact(res, 9, key, g.str(), g.int64())
	}
	return g.fact(res, 10, key, "", 0)
}

func (g *gen) typedFact(res checks.Result, key string, s catalog.FactSchema) checks.Result {
	scalarInt := func() int64 {
		if s.Type == catalog.FactPort {
			return g.rng.Int64N(65535) + 1
		}
		if *s.Max-*s.Min < math.MaxInt64 && *s.Max-*s.Min >= 0 {
			return *s.Min + g.rng.Int64N(*s.Max-*s.Min+1)
		}
		return g.int64()
	}
	scalarStr := func() string {
		switch s.Type {
		case catalog.FactEnum:
			if g.rng.IntN(3) == 0 {
				return g.str()
			}
			return g.pick(s.Values)
		case catalog.FactVersion:
			return g.versionLike(false)
		}
		return g.str() + "x" // object names must not be empty
	}
	n := 1 + g.rng.IntN(4)
	switch {
	case s.Type == catalog.FactBool:
		return res.Bool(key, g.rng.IntN(2) == 0)
	case (s.Type == catalog.FactInt || s.Type == catalog.FactPort) && !s.List:
		return res.Int(key, scalarInt())
	case s.Type == catalog.FactInt || s.Type == catalog.FactPort:
		l := make([]int64, n)
		for i := range l {
			l[i] = scalarInt()
		}
		return res.Ints(key, l)
	case !s.List:
		return res.Enum(key, scalarStr())
	}
	l := make([]string, n)
	for i := range l {
		l[i] = scalarStr()
	}
	return res.Enums(key, l)
}

func (g *gen) lowerSeverity(max catalog.Severity) catalog.Severity {
	return catalog.Severities()[g.rng.IntN(max.Rank()+1)]
}

// result builds a valid result for entry through the checks' builders.
func (g *gen) result(e catalog.Entry) report.Result {
	msg := g.str()
	var res checks.Result
	reasons := report.Reasons()
	var sup *report.Suppression
	switch g.rng.IntN(5) {
	case 0:
		res = checks.Pass("%s", msg)
	case 1, 2:
		res = checks.Fail("%s", msg)
	case 3:
		res = checks.Skip(reasons[g.rng.IntN(len(reasons))], "%s", msg)
		if res.Reason == report.ReasonSuppressed {
			sup = &report.Suppression{Reason: g.str(), Until: g.str()}
		}
	default:
		res = checks.Error(reasons[g.rng.IntN(len(reasons))], "%s", msg)
	}
	for _, key := range slices.Sorted(maps.Keys(e.Facts)) {
		if g.rng.IntN(5) > 0 {
			res = g.randomFact(res, key, e.Facts[key])
		}
	}
	for range g.rng.IntN(3) { // undeclared keys, themselves arbitrary
		key := g.str()
		if g.rng.IntN(2) == 0 {
			key = g.fromAlphabet("abcdefghijklmnopqrstuvwxyz_", 1+g.rng.IntN(10))
		}
		if _, declared := e.Facts[key]; !declared {
			res = g.fact(res, g.rng.IntN(builderKinds), key, g.str(), g.int64())
		}
	}
	for range g.rng.IntN(4) {
		res = res.Detail("%s", g.str())
	}
	if g.rng.IntN(4) == 0 {
		res = res.WithSeverity(g.lowerSeverity(e.Severity))
	}
	out := toReportResult(e, res)
	out.Suppression = sup
	out.DurationMS = g.rng.Float64() * 1000
	return out
}

// toReportResult mirrors the scanner: catalog fields plus what the check returned.
func toReportResult(e catalog.Entry, res checks.Result) report.Result {
	sev := e.Severity
	if res.Severity != "" {
		sev = res.Severity
	}
	out := report.Result{
		ID: e.ID, Family: e.Family(), Title: e.Title, Severity: sev, Status: res.Status,
		Reason: res.Reason, Message: res.Message, Details: res.Details, Facts: res.Facts,
	}
	if res.Status == report.StatusFail {
		out.Remediation = e.Remediation
	}
	return out
}

func (g *gen) time() time.Time {
	switch g.rng.IntN(4) {
	case 0: // any year with four digits
		return time.Unix(g.rng.Int64N(253402300799+62135596800)-62135596800, g.rng.Int64N(1e9)).UTC()
	case 1:
		return time.Unix(g.rng.Int64N(4102444800), 0).In(time.FixedZone("X", (g.rng.IntN(27)-12)*3600))
	}
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.rng.Int64N(int64(365 * 24 * time.Hour))))
}

// host returns a host description with arbitrary or known values.
func (g *gen) host() report.Host {
	choose := func(known []string) string {
		switch g.rng.IntN(3) {
		case 0:
			return g.pick(known)
		case 1:
			return ""
		}
		return g.str()
	}
	return report.Host{
		Hostname: g.str(), Root: g.str(), Live: g.rng.IntN(2) == 0,
		OS: choose(report.KnownOS), Arch: choose(report.KnownArch), Distro: choose(report.KnownDistros),
		DistroVersion: choose([]string{"12", "24.04", "9.4"}), DistroName: g.str(),
		Kernel: choose([]string{"6.1.0-18-amd64", "5.15.0-1052-aws"}),
	}
}

// report builds a random report over a random subset of the catalog, in random order.
func (g *gen) report(t testing.TB) *report.Report {
	t.Helper()
	started := g.time()
	id, err := report.NewAuditID(started)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		AuditID:       id,
		Agent:         report.Agent{Version: g.pick([]string{g.str(), g.versionLike(false)}), Commit: g.str()},
		StartedAt:     started,
		DurationMS:    g.int64(),
		Host:          g.host(),
	}
	for _, i := range g.rng.Perm(len(g.gc.entries)) {
		if g.rng.IntN(5) > 0 {
			r.Results = append(r.Results, g.result(g.gc.entries[i]))
		}
	}
	r.Summary = report.Summarize(r.Results)
	return r
}

// withOtherLocalFields returns a copy of r whose local-only fields (messages, details,
// titles, remediation, suppression, hostname, root, distro name, commit, durations) are
// replaced by other arbitrary strings.
func (g *gen) withOtherLocalFields(r *report.Report) *report.Report {
	c := *r
	c.Agent.Commit = g.str()
	c.Host.Hostname, c.Host.Root, c.Host.DistroName = g.str(), g.str(), g.str()
	c.Results = slices.Clone(r.Results)
	for i := range c.Results {
		res := &c.Results[i]
		res.Message, res.Title, res.Family, res.Remediation = g.str(), g.str(), g.str(), g.str()
		res.Details = g.strs()
		res.DurationMS = g.rng.Float64()
		if res.Suppression != nil {
			res.Suppression = &report.Suppression{Reason: g.str(), Until: g.str()}
		}
	}
	return &c
}

// expectedFact is an independent model of fact normalisation for the values the builders
// produce. known is false for values it does not model.
func expectedFact(s catalog.FactSchema, v any) (want any, keep, known bool) {
	scalar := func(item any) (any, bool, bool) {
		switch s.Type {
		case catalog.FactBool:
			b, ok := item.(bool)
			return b, ok, true
		case catalog.FactInt, catalog.FactPort:
			n, ok := item.(int64)
			if !ok {
				_, isStr := item.(string)
				_, isBool := item.(bool)
				return nil, false, isStr || isBool
			}
			lo, hi := int64(1), int64(65535)
			if s.Type == catalog.FactInt {
				lo, hi = *s.Min, *s.Max
			}
			return n, n >= lo && n <= hi, true
		}
		str, ok := item.(string)
		if !ok {
			_, isInt := item.(int64)
			_, isBool := item.(bool)
			return nil, false, isInt || isBool
		}
		switch s.Type {
		case catalog.FactEnum:
			if slices.Contains(s.Values, str) {
				return str, true, true
			}
			return catalog.OtherValue, true, true
		case catalog.FactVersion:
			return str, catalog.VersionPattern.MatchString(str), true
		}
		return objectID(testKey, str), str != "", true // object
	}
	maxItems := s.MaxItems
	if maxItems == 0 {
		maxItems = catalog.DefaultMaxItems
	}
	if !s.List {
		switch v.(type) {
		case []int64, []string:
			return nil, false, true
		}
		return scalar(v)
	}
	var items []any
	switch l := v.(type) {
	case []int64:
		for _, n := range l {
			items = append(items, n)
		}
	case []string:
		for _, str := range l {
			items = append(items, str)
		}
	case int64, string, bool:
		return nil, false, true
	default:
		return nil, false, false
	}
	if len(items) > maxItems {
		return nil, false, true
	}
	var ints []int64
	var strs []string
	for _, item := range items {
		w, ok, known := scalar(item)
		if !known {
			return nil, false, false
		}
		if !ok {
			return nil, false, true
		}
		switch w := w.(type) {
		case int64:
			ints = append(ints, w)
		case string:
			strs = append(strs, w)
		}
	}
	if s.Type == catalog.FactInt || s.Type == catalog.FactPort {
		if ints == nil {
			ints = []int64{}
		}
		return ints, true, true
	}
	if strs == nil {
		strs = []string{}
	}
	return strs, true, true
}

// stats counts what the checks saw, so a test can tell it was not vacuous.
type stats struct{ payloads, kept, dropped, modelled int }

// checkPayload builds the payload of r and asserts the grammar and the redaction
// properties. g supplies arbitrary strings for the non-interference check.
func checkPayload(t *testing.T, gc *grammarCatalog, g *gen, r *report.Report, st *stats) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("[%s catalog] "+format, append([]any{gc.name}, args...)...)
	}
	p, err := r.Payload(gc.cat, report.PayloadOptions{ObjectKey: testKey})
	if err != nil {
		fail("Payload of a valid report: %v", err)
		return
	}
	data, err := p.Marshal()
	if err != nil {
		fail("Marshal: %v", err)
		return
	}
	st.payloads++

	// 1. Every string in the payload belongs to the grammar, position by position.
	strs := checkWireGrammar(t, gc, data, fail)

	// 2. Local-only strings appear only when they happen to be grammar strings.
	local := []string{r.Host.Hostname, r.Host.Root, r.Host.DistroName, r.Agent.Commit}
	for _, res := range r.Results {
		local = append(local, res.Message, res.Remediation, res.Title)
		local = append(local, res.Details...)
		if res.Suppression != nil {
			local = append(local, res.Suppression.Reason, res.Suppression.Until)
		}
	}
	for _, s := range local {
		if strs[s] && !gc.allowsValue(s) {
			fail("local-only string %q reached the payload", s)
		}
	}

	// 3. Facts are kept or dropped exactly as their schema says, and all are accounted for.
	in, out := 0, 0
	for i, res := range r.Results {
		entry, _ := gc.cat.Lookup(res.ID)
		pr := p.Results[i]
		if pr.ID != res.ID {
			fail("results[%d] is %s, want %s (order)", i, pr.ID, res.ID)
			continue
		}
		in += len(res.Facts)
		out += len(pr.Facts)
		for k, v := range res.Facts {
			got, present := pr.Facts[k]
			schema, declared := entry.Facts[k]
			if !declared {
				if present {
					fail("%s: undeclared fact %q sent", res.ID, k)
				}
				continue
			}
			want, keep, known := expectedFact(schema, v)
			if !known {
				continue
			}
			st.modelled++
			if present != keep || (keep && !reflect.DeepEqual(got, want)) {
				fail("%s: fact %s (%s, list %v) from %#v: sent %v %#v, want kept %v %#v", res.ID, k, schema.Type, schema.List, v, present, got, keep, want)
			}
		}
	}
	if in-out != p.DroppedFacts {
		fail("%d facts in, %d sent, but dropped_facts = %d", in, out, p.DroppedFacts)
	}
	st.kept += out
	st.dropped += p.DroppedFacts

	// 4. The server's strict decoder accepts the bytes, and they survive a round trip.
	decoded, err := report.DecodePayload(bytes.NewReader(data), gc.cat)
	if err != nil {
		fail("DecodePayload rejected the agent's own payload: %v\n%s", err, data)
		return
	}
	again, err := decoded.Marshal()
	if err != nil || !bytes.Equal(again, data) {
		fail("decode and re-marshal changed the payload:\n%s\n%s", data, again)
	}

	// 5. Non-interference: the payload does not depend on local-only fields at all.
	p2, err := g.withOtherLocalFields(r).Payload(gc.cat, report.PayloadOptions{ObjectKey: testKey})
	if err != nil {
		fail("Payload after changing local-only fields: %v", err)
		return
	}
	data2, err := p2.Marshal()
	if err != nil || !bytes.Equal(data, data2) {
		fail("the payload changed with local-only fields:\n%s\n%s", data, data2)
	}
}

// checkWireGrammar walks the payload JSON and returns the set of its string values.
func checkWireGrammar(t *testing.T, gc *grammarCatalog, data []byte, fail func(string, ...any)) map[string]bool {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		fail("payload is not JSON: %v", err)
		return nil
	}
	strs := map[string]bool{}
	// Generic pass: every key and every string value, wherever it is.
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if !gc.keys[k] {
					fail("key %q at %s is not in the grammar", k, path)
				}
				walk(child, path+"."+k)
			}
		case []any:
			for i, child := range v {
				walk(child, fmt.Sprintf("%s[%d]", path, i))
			}
		case string:
			strs[v] = true
			if !gc.allowsValue(v) {
				fail("string %q at %s is not in the grammar", v, path)
			}
		case json.Number:
			if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
				fail("number %s at %s is not an int64", v, path)
			}
		case bool:
		default:
			fail("unexpected %T at %s", v, path)
		}
	}
	walk(doc, "$")

	// Positional pass.
	top, ok := doc.(map[string]any)
	if !ok {
		fail("payload is not an object")
		return strs
	}
	onlyKeys := func(m map[string]any, allowed []string, where string) {
		for k := range m {
			if !slices.Contains(allowed, k) {
				fail("%s has key %q", where, k)
			}
		}
	}
	onlyKeys(top, topKeys, "payload")
	if id, _ := top["audit_id"].(string); !uuidV7.MatchString(id) {
		fail("audit_id %q", id)
	}
	if ts, _ := top["started_at"].(string); !isTimestamp(ts) {
		fail("started_at %q", ts)
	}
	if v, _ := top["agent_version"].(string); !catalog.VersionPattern.MatchString(v) {
		fail("agent_version %q", v)
	}
	if g, _ := top["grade"].(string); !slices.Contains(score.Grades(), g) {
		fail("grade %q", g)
	}
	host, _ := top["host"].(map[string]any)
	onlyKeys(host, hostKeys, "host")
	for field, known := range map[string][]string{"os": report.KnownOS, "arch": report.KnownArch, "distro": report.KnownDistros} {
		if v, present := host[field]; present && !slices.Contains(append(slices.Clone(known), catalog.OtherValue), v.(string)) {
			fail("host.%s = %q", field, v)
		}
	}
	for _, field := range []string{"distro_version", "kernel"} {
		if v, present := host[field]; present && !catalog.VersionPattern.MatchString(v.(string)) {
			fail("host.%s = %q", field, v)
		}
	}
	results, _ := top["results"].([]any)
	for i, item := range results {
		res, _ := item.(map[string]any)
		onlyKeys(res, resultKeys, fmt.Sprintf("results[%d]", i))
		id, _ := res["id"].(string)
		entry, ok := gc.cat.Lookup(id)
		if !ok {
			fail("results[%d].id %q is not a catalog id", i, id)
			continue
		}
		if s, _ := res["status"].(string); !report.Status(s).Valid() {
			fail("%s: status %q", id, s)
		}
		if s, _ := res["severity"].(string); !catalog.Severity(s).Valid() {
			fail("%s: severity %q", id, s)
		}
		if r, present := res["reason"]; present && !report.Reason(r.(string)).Valid() {
			fail("%s: reason %q", id, r)
		}
		facts, _ := res["facts"].(map[string]any)
		for k, v := range facts {
			schema, declared := entry.Facts[k]
			if !declared {
				fail("%s: fact %q is not declared", id, k)
				continue
			}
			if err := conformsWire(schema, v); err != nil {
				fail("%s: fact %s = %v: %v", id, k, v, err)
			}
		}
	}
	return strs
}

// conformsWire checks a decoded wire value against a schema, independently of the
// catalog package's own validation.
func conformsWire(s catalog.FactSchema, v any) error {
	scalar := func(item any) error {
		switch s.Type {
		case catalog.FactBool:
			if _, ok := item.(bool); !ok {
				return fmt.Errorf("not a bool")
			}
			return nil
		case catalog.FactInt, catalog.FactPort:
			num, ok := item.(json.Number)
			if !ok {
				return fmt.Errorf("not a number")
			}
			n, err := strconv.ParseInt(string(num), 10, 64)
			if err != nil {
				return err
			}
			lo, hi := int64(1), int64(65535)
			if s.Type == catalog.FactInt {
				lo, hi = *s.Min, *s.Max
			}
			if n < lo || n > hi {
				return fmt.Errorf("out of range")
			}
			return nil
		}
		str, ok := item.(string)
		if !ok {
			return fmt.Errorf("not a string")
		}
		switch s.Type {
		case catalog.FactEnum:
			if str != catalog.OtherValue && !slices.Contains(s.Values, str) {
				return fmt.Errorf("undeclared enum value")
			}
		case catalog.FactVersion:
			if !catalog.VersionPattern.MatchString(str) {
				return fmt.Errorf("not a version")
			}
		case catalog.FactObject:
			if !catalog.ObjectPattern.MatchString(str) {
				return fmt.Errorf("not an object id")
			}
		}
		return nil
	}
	if !s.List {
		return scalar(v)
	}
	items, ok := v.([]any)
	if !ok {
		return fmt.Errorf("not a list")
	}
	max := s.MaxItems
	if max == 0 {
		max = catalog.DefaultMaxItems
	}
	if len(items) > max {
		return fmt.Errorf("%d items", len(items))
	}
	for _, item := range items {
		if err := scalar(item); err != nil {
			return err
		}
	}
	return nil
}

// grammarCatalogs returns the real embedded catalog and the synthetic one.
func grammarCatalogs(t testing.TB) []*grammarCatalog {
	t.Helper()
	embedded, err := catalog.Load()
	if err != nil {
		t.Fatalf("catalog.Load: %v", err)
	}
	return []*grammarCatalog{newGrammarCatalog("embedded", embedded), newGrammarCatalog("synthetic", syntheticCatalog(t))}
}

func TestPayloadGrammarProperty(t *testing.T) {
	const iterations = 2000
	for _, gc := range grammarCatalogs(t) {
		var st stats
		g := newGen(20250304, nil, nil, gc)
		for i := 0; i < iterations && !t.Failed(); i++ {
			checkPayload(t, gc, g, g.report(t), &st)
		}
		t.Logf("%s catalog (%d checks): %d payloads, %d facts sent, %d dropped, %d checked against the model",
			gc.name, len(gc.entries), st.payloads, st.kept, st.dropped, st.modelled)
		if st.payloads != iterations {
			t.Errorf("%s: %d payloads built, want %d", gc.name, st.payloads, iterations)
		}
		if len(gc.entries) > 0 && len(gc.keys) > len(topKeys)+len(hostKeys)+len(resultKeys) && (st.kept == 0 || st.dropped == 0 || st.modelled == 0) {
			t.Errorf("%s: the generator is not exercising facts: %+v", gc.name, st)
		}
	}
}

// TestPayloadGrammarRejectsInvalidResults: results the scanner would never produce make
// Payload fail rather than send something outside the grammar.
func TestPayloadGrammarRejectsInvalidResults(t *testing.T) {
	gc := newGrammarCatalog("synthetic", syntheticCatalog(t))
	g := newGen(7, nil, nil, gc)
	breakers := []func(*report.Result){
		func(r *report.Result) { r.Status = report.Status(g.str() + "!") },
		func(r *report.Result) { r.Status, r.Reason = report.StatusSkip, report.Reason(g.str()+"!") },
		func(r *report.Result) { r.Status, r.Reason = report.StatusError, "" },
		func(r *report.Result) { r.Severity = catalog.Severity(g.str() + "!") },
		func(r *report.Result) { r.ID = g.str() + "!" },
	}
	for i := range 500 {
		r := g.report(t)
		if len(r.Results) == 0 {
			continue
		}
		breakers[i%len(breakers)](&r.Results[g.rng.IntN(len(r.Results))])
		if p, err := r.Payload(gc.cat, report.PayloadOptions{ObjectKey: testKey}); err == nil {
			data, _ := p.Marshal()
			t.Fatalf("Payload accepted an invalid result (breaker %d): %s", i%len(breakers), data)
		}
	}
}

func FuzzPayloadGrammar(f *testing.F) {
	f.Add(uint64(1), "hello world", "1.2.3", "prohibit-password", int64(22))
	f.Add(uint64(2), "", "other", "0123456789abcdef0123456789abcdef", int64(0))
	f.Add(uint64(3), "\xff\xfe\x00", "OpenSSH_9.2p1 Debian-2", "password=hunter2", int64(math.MaxInt64))
	f.Add(uint64(4), strings.Repeat("9", 65), strings.Repeat("a", 64), "test.alpha", int64(math.MinInt64))
	f.Add(uint64(5), "tcp", "udp", "sctp-1.0", int64(65536))
	f.Add(uint64(6), `{"facts":{"x":1}}`, "</script>\u2028", "/etc/shadow", int64(-1))
	f.Add(uint64(7), "42", "1e3", "9223372036854775808", int64(101))
	f.Add(uint64(8), "yes", "no", "N/A", int64(100))
	f.Add(uint64(9), "日本語 ñ 😀", "\u202eevil", "web-01.example.com", int64(65535))
	gcs := grammarCatalogs(f)
	f.Fuzz(func(t *testing.T, seed uint64, s1, s2, s3 string, n int64) {
		pool := []string{s1, s2, s3}
		for _, gc := range gcs {
			var st stats
			g := newGen(seed, pool, []int64{n}, gc)
			// Every fuzz string through every builder into every declared fact of the
			// synthetic catalog. The builder rotates over the facts of a report, so the
			// larger embedded catalog gets one rotation per input (and every combination
			// over the corpus), which keeps the executions fast.
			bases := []int{int(seed % builderKinds)}
			if gc.name == "synthetic" {
				bases = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
			}
			for _, base := range bases {
				for _, s := range pool {
					checkPayload(t, gc, g, sweepReport(t, gc, g, base, s, n), &st)
				}
			}
			// And a random report drawing mostly on the fuzz strings.
			checkPayload(t, gc, g, g.report(t), &st)
		}
	})
}

// sweepReport is a report in which every check of the catalog sets every declared fact
// with value s (or n) through a builder kind that rotates from base over the facts, and s
// is also the message, a detail, an undeclared fact key and every free-text host field.
// Over bases 0…builderKinds-1, every fact is set through every builder.
func sweepReport(t *testing.T, gc *grammarCatalog, g *gen, base int, s string, n int64) *report.Report {
	t.Helper()
	id, err := report.NewAuditID(time.Unix(n%253402300799, 0))
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		AuditID:       id,
		Agent:         report.Agent{Version: s, Commit: s},
		StartedAt:     time.Unix(0, 0).UTC(),
		DurationMS:    n,
		Host: report.Host{
			Hostname: s, Root: s, Live: n%2 == 0, OS: s, Arch: s, Distro: s, DistroVersion: s, DistroName: s, Kernel: s,
		},
	}
	reasons := report.Reasons()
	for i, e := range gc.entries {
		kind := (base + i) % builderKinds
		var res checks.Result
		switch (kind + i) % 4 {
		case 0:
			res = checks.Pass("%s", s)
		case 1:
			res = checks.Fail("%s", s)
		case 2:
			res = checks.Skip(reasons[(kind+i)%len(reasons)], "%s", s)
		default:
			res = checks.Error(reasons[(kind+i+3)%len(reasons)], "%s", s)
		}
		for j, key := range slices.Sorted(maps.Keys(e.Facts)) {
			res = g.fact(res, (kind+j)%builderKinds, key, s, n)
		}
		if _, declared := e.Facts[s]; !declared {
			res = g.fact(res, kind, s, s, n)
		}
		res = res.Detail("%s", s).Detail("%s", s)
		out := toReportResult(e, res)
		if out.Reason == report.ReasonSuppressed {
			out.Suppression = &report.Suppression{Reason: s, Until: s}
		}
		r.Results = append(r.Results, out)
	}
	r.Summary = report.Summarize(r.Results)
	return r
}
