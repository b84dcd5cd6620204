package ingest_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
)

// TestCanonicalPayloadsTakeTheFastPath: what the agent writes (report.Payload.Marshal) is
// decoded by the fast path, to the same payload as report.DecodePayload. If a field is added
// to the payload, this fails until decodeCanonical learns it.
func TestCanonicalPayloadsTakeTheFastPath(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 17, 120} {
		p, err := payloadgen.Payload(cat, "", payloadgen.Options{Results: n})
		if err != nil {
			t.Fatal(err)
		}
		p.Results[0].Status, p.Results[0].Reason = report.StatusSkip, report.ReasonNotInstalled
		p.Results[0].Facts = nil
		p.DroppedFacts = 3
		p.Score, p.Grade = payloadScore(p)
		plain, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		fast, ok := ingest.DecodeCanonical(cat, plain)
		if !ok {
			t.Fatalf("%d results: canonical payload not taken by the fast path", n)
		}
		if err := fast.Validate(cat); err != nil {
			t.Fatal(err)
		}
		ref, err := report.DecodePayload(bytes.NewReader(plain), cat)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%d results: fast path %+v, reference %+v", n, fast, ref)
		}
	}
}

// payloadScore recomputes a payload's score and grade from its results.
func payloadScore(p *report.Payload) (int, string) {
	var outcomes []score.Outcome
	for _, r := range p.Results {
		if r.Status == report.StatusPass || r.Status == report.StatusFail {
			outcomes = append(outcomes, score.Outcome{Severity: r.Severity, Passed: r.Status == report.StatusPass})
		}
	}
	s := score.Compute(outcomes)
	return s.Score, s.Grade
}

// TestNonCanonicalFormsFallBack: anything outside the canonical subset is left to
// report.DecodePayload, even when it is valid JSON.
func TestNonCanonicalFormsFallBack(t *testing.T) {
	cat, _, plain, _ := validBodies(t)
	s := string(plain)
	for name, body := range map[string]string{
		"upper-case key":  strings.Replace(s, `"audit_id"`, `"Audit_ID"`, 1),
		"duplicate key":   strings.Replace(s, `"grade":`, `"grade":"A","grade":`, 1),
		"null":            strings.Replace(s, `"dropped_facts":0`, `"dropped_facts":null`, 1),
		"escape":          strings.Replace(s, `"linux"`, `"li\u006eux"`, 1),
		"unknown field":   strings.Replace(s, `{"schema_version"`, `{"x":1,"schema_version"`, 1),
		"float int field": strings.Replace(s, `"dropped_facts":0`, `"dropped_facts":0.0`, 1),
		"trailing":        s + "x",
		"not an object":   "[" + s + "]",
		"nested fact":     strings.Replace(s, `"facts":{`, `"facts":{"zz":{"a":1},`, 1),
		"empty":           "",
	} {
		if _, ok := ingest.DecodeCanonical(cat, []byte(body)); ok {
			t.Errorf("%s: taken by the fast path", name)
		}
	}
}

// FuzzCanonicalDecode is the differential check of the fast path: whatever decodeCanonical
// accepts, report.DecodePayload must accept or reject exactly as Payload.Validate does on
// the fast result, and when both accept, the payloads must be identical.
func FuzzCanonicalDecode(f *testing.F) {
	cat, err := catalog.Load()
	if err != nil {
		f.Fatal(err)
	}
	p, err := payloadgen.Payload(cat, "", payloadgen.Options{Results: 3})
	if err != nil {
		f.Fatal(err)
	}
	small, _ := p.Marshal()
	_, _, plain, _ := validBodies(f)
	s := string(small)
	for _, seed := range []string{
		s, string(plain),
		" \n" + s + "\t\r\n",
		strings.Replace(s, `"schema_version":1`, `"schema_version":-0`, 1),
		strings.Replace(s, `"duration_ms":57`, `"duration_ms":99999999999999999999`, 1),
		strings.Replace(s, `"score":`, `"score":1e2,"x":`, 1),
		strings.Replace(s, `"facts":{`, `"facts":{"n":[1,-2.5e3,true,"x"],`, 1),
		strings.Replace(s, `"results":[`, `"results":[{},`, 1),
		`{"schema_version":1,"results":[]}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := ingest.DecodeCanonical(cat, body)
		if !ok {
			return
		}
		fastErr := fast.Validate(cat)
		ref, refErr := report.DecodePayload(bytes.NewReader(body), cat)
		if (fastErr == nil) != (refErr == nil) {
			t.Fatalf("fast path validation %v, reference %v for %q", fastErr, refErr, body)
		}
		if fastErr == nil && !reflect.DeepEqual(fast, ref) {
			t.Fatalf("fast path %+v, reference %+v for %q", fast, ref, body)
		}
	})
}
