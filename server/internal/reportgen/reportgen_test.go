package reportgen_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/securecodehq/server-audit/internal/golden"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/reportgen"
)

// build builds a report or fails the test.
func build(t testing.TB, in reportgen.Input) reportgen.Output {
	t.Helper()
	out, err := reportgen.Build(in, loadCatalog(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return out
}

// summaryJSON encodes a summary as the API serves it.
func summaryJSON(t testing.TB, s reportgen.Summary) []byte {
	t.Helper()
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatalf("encode summary: %v", err)
	}
	return append(data, '\n')
}

func TestGolden(t *testing.T) {
	cases := map[string]reportgen.Input{
		"first":          firstAudit(),
		"second":         secondAudit(),
		"unknown-facts":  unknownAndFactsAudit(),
		"empty":          emptyAudit(),
		"score-mismatch": mismatchAudit(),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			out := build(t, in)
			golden.Assert(t, "testdata/golden/"+name+".md", []byte(out.Markdown))
			golden.Assert(t, "testdata/golden/"+name+".html", []byte(out.HTML))
			golden.Assert(t, "testdata/golden/"+name+".summary.json", summaryJSON(t, out.Summary))
		})
	}
}

func TestFirstAuditSummary(t *testing.T) {
	in := firstAudit()
	s := build(t, in).Summary
	if s.Score != in.Score || s.Grade != in.Grade || s.ScoreMismatch {
		t.Errorf("score %d %s mismatch %v, want the agent's %d %s and no mismatch", s.Score, s.Grade, s.ScoreMismatch, in.Score, in.Grade)
	}
	wantCounts := map[report.Status]int{report.StatusPass: 3, report.StatusFail: 7, report.StatusSkip: 3, report.StatusError: 1}
	if !mapsEqual(s.Counts, wantCounts) || s.Suppressed != 1 || s.Total != len(in.Results) {
		t.Errorf("counts %v suppressed %d total %d", s.Counts, s.Suppressed, s.Total)
	}
	wantSev := map[catalog.Severity]int{catalog.SeverityCritical: 1, catalog.SeverityHigh: 3, catalog.SeverityMedium: 1, catalog.SeverityLow: 1, catalog.SeverityInfo: 1}
	if !mapsEqual(s.FailedBySeverity, wantSev) {
		t.Errorf("failed by severity %v, want %v", s.FailedBySeverity, wantSev)
	}
	var order []string
	for _, f := range s.Failures {
		order = append(order, f.CheckID)
		if f.New {
			t.Errorf("%s marked new on the first audit", f.CheckID)
		}
		if !f.Known || f.Title == "" || f.Rationale == "" || f.Remediation == "" {
			t.Errorf("%s lacks catalog text", f.CheckID)
		}
	}
	wantOrder := []string{"ports.datastores", "firewall.active", "ssh.password-authentication", "ssh.permit-root-login", "system.core-dumps", "system.sysrq", "ports.inventory"}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("failure order %v, want %v", order, wantOrder)
	}
	if s.NewFailures == nil || s.Fixed == nil || s.NotRechecked == nil || len(s.NewFailures)+len(s.Fixed)+len(s.NotRechecked) != 0 {
		t.Errorf("first audit: new %v fixed %v not rechecked %v, want empty non-nil lists", s.NewFailures, s.Fixed, s.NotRechecked)
	}
	if s.PreviousAudit != "" || s.PreviousScore != nil || s.ScoreDelta != nil {
		t.Errorf("first audit has previous %q %v %v", s.PreviousAudit, s.PreviousScore, s.ScoreDelta)
	}
}

func TestSecondAuditChanges(t *testing.T) {
	in := secondAudit()
	s := build(t, in).Summary
	if want := []string{"docker.socket-permissions", "system.aslr", "nginx.server-tokens"}; !slices.Equal(s.NewFailures, want) {
		t.Errorf("new failures %v, want %v", s.NewFailures, want)
	}
	if want := []string{"ssh.password-authentication", "system.sysrq"}; !slices.Equal(s.Fixed, want) {
		t.Errorf("fixed %v, want %v", s.Fixed, want)
	}
	want := []reportgen.NotRechecked{
		{CheckID: "firewall.active", Severity: catalog.SeverityHigh, Missing: true},
		{CheckID: "system.core-dumps", Severity: catalog.SeverityMedium, Status: report.StatusSkip, Reason: report.ReasonNotLive},
		{CheckID: "ports.inventory", Severity: catalog.SeverityInfo, Status: report.StatusError, Reason: report.ReasonTimeout},
	}
	if !slices.Equal(s.NotRechecked, want) {
		t.Errorf("not rechecked %+v, want %+v", s.NotRechecked, want)
	}
	for _, f := range s.Failures {
		wantNew := slices.Contains(s.NewFailures, f.CheckID)
		if f.New != wantNew {
			t.Errorf("%s new = %v, want %v", f.CheckID, f.New, wantNew)
		}
	}
	if s.PreviousAudit != id1 || s.PreviousScore == nil || *s.PreviousScore != in.Previous.Score || s.PreviousGrade != in.Previous.Grade {
		t.Errorf("previous %q %v %q", s.PreviousAudit, s.PreviousScore, s.PreviousGrade)
	}
	if s.ScoreDelta == nil || *s.ScoreDelta != in.Score-in.Previous.Score {
		t.Errorf("score delta %v, want %d", s.ScoreDelta, in.Score-in.Previous.Score)
	}
}

func TestUnknownCheck(t *testing.T) {
	out := build(t, unknownAndFactsAudit())
	var f *reportgen.Finding
	for i := range out.Summary.Failures {
		if out.Summary.Failures[i].CheckID == "kernel.lockdown-mode" {
			f = &out.Summary.Failures[i]
		}
	}
	if f == nil {
		t.Fatal("unknown failing check missing from the failures")
	}
	if f.Known || f.Title != "" || f.Rationale != "" || f.Remediation != "" || len(f.Facts) != 3 {
		t.Errorf("unknown check finding %+v", f)
	}
	for _, doc := range []string{out.Markdown, out.HTML} {
		if !bytes.Contains([]byte(doc), []byte("kernel.lockdown-mode")) || !bytes.Contains([]byte(doc), []byte("not in this server&#39;s catalog")) && !bytes.Contains([]byte(doc), []byte("not in this server's catalog")) {
			t.Errorf("unknown check not shown as such")
		}
	}
}

func TestEmptyAudit(t *testing.T) {
	s := build(t, emptyAudit()).Summary
	if s.Grade != "N/A" || s.ComputedGrade != "N/A" || s.ScoreMismatch || len(s.Failures) != 0 || s.Failures == nil || s.Total != 0 {
		t.Errorf("empty audit summary %+v", s)
	}
}

func TestScoreMismatch(t *testing.T) {
	in := mismatchAudit()
	out := build(t, in)
	s := out.Summary
	c := computed(in.Results)
	if !s.ScoreMismatch || s.Score != 97 || s.Grade != "A" || s.ComputedScore != c.Score || s.ComputedGrade != c.Grade {
		t.Errorf("mismatch %v score %d %s computed %d %s, want agent's 97 A and computed %d %s", s.ScoreMismatch, s.Score, s.Grade, s.ComputedScore, s.ComputedGrade, c.Score, c.Grade)
	}
	for name, doc := range map[string]string{"markdown": out.Markdown, "html": out.HTML} {
		if !bytes.Contains([]byte(doc), []byte("Score mismatch")) {
			t.Errorf("%s does not warn about the score mismatch", name)
		}
	}
	if bytes.Contains([]byte(build(t, secondAudit()).Markdown), []byte("Score mismatch")) {
		t.Error("consistent score reported as a mismatch")
	}
}

func TestNilCatalog(t *testing.T) {
	if _, err := reportgen.Build(firstAudit(), nil); err == nil {
		t.Error("Build with a nil catalog succeeded")
	}
}

func TestDeterministic(t *testing.T) {
	cat := loadCatalog(t)
	r, err := reportgen.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]reportgen.Input{"second": secondAudit(), "unknown-facts": unknownAndFactsAudit(), "large": largeAudit(cat, true), "hostile": hostileAudit()} {
		t.Run(name, func(t *testing.T) {
			want := build(t, in)
			wantJSON := summaryJSON(t, want.Summary)
			again := build(t, in)
			assertSame(t, want, wantJSON, again)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 20 {
				shuffled := in
				shuffled.Results = slices.Clone(in.Results)
				rng.Shuffle(len(shuffled.Results), func(a, b int) {
					shuffled.Results[a], shuffled.Results[b] = shuffled.Results[b], shuffled.Results[a]
				})
				if in.Previous != nil {
					prev := *in.Previous
					prev.Results = slices.Clone(prev.Results)
					rng.Shuffle(len(prev.Results), func(a, b int) {
						prev.Results[a], prev.Results[b] = prev.Results[b], prev.Results[a]
					})
					shuffled.Previous = &prev
				}
				got, err := r.Build(shuffled, cat)
				if err != nil {
					t.Fatalf("shuffle %d: %v", i, err)
				}
				assertSame(t, want, wantJSON, got)
			}
		})
	}
}

// assertSame fails unless got renders byte for byte as want.
func assertSame(t *testing.T, want reportgen.Output, wantJSON []byte, got reportgen.Output) {
	t.Helper()
	if got.Markdown != want.Markdown {
		t.Fatal("Markdown differs between builds")
	}
	if got.HTML != want.HTML {
		t.Fatal("HTML differs between builds")
	}
	if !bytes.Equal(summaryJSON(t, got.Summary), wantJSON) {
		t.Fatal("summary differs between builds")
	}
}

// mapsEqual compares two count maps.
func mapsEqual[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// largeAudit is a 120-result audit (every catalog check and six unknown ones, 34 failing)
// with a previous audit. With churn, the previous statuses are shifted, so that about half of
// the checks change status (new failures, fixed, not re-checked); without, the previous audit
// has the same statuses.
func largeAudit(cat *catalog.Catalog, churn bool) reportgen.Input {
	statuses := []report.Status{report.StatusPass, report.StatusFail, report.StatusPass, report.StatusSkip, report.StatusPass, report.StatusError, report.StatusFail}
	mk := func(shift int) []reportgen.Result {
		var out []reportgen.Result
		ids := cat.IDs()
		for i := range 6 {
			ids = append(ids, "future.check-"+string(rune('a'+i)))
		}
		for i, id := range ids {
			e, ok := cat.Lookup(id)
			sev := e.Severity
			if !ok {
				sev = catalog.SeverityMedium
			}
			st := statuses[(i+shift)%len(statuses)]
			r := reportgen.Result{CheckID: id, Status: st, Severity: sev}
			switch st {
			case report.StatusSkip:
				r.Reason = report.ReasonNotInstalled
			case report.StatusError:
				r.Reason = report.ReasonTimeout
			default:
				r.Facts = map[string]any{"count": int64(i), "enabled": i%2 == 0, "ports": []int64{22, 443}, "services": []string{"ssh", "https"}}
			}
			out = append(out, r)
		}
		return out
	}
	shift := 0
	if churn {
		shift = 3
	}
	prev := scored(reportgen.Input{Results: mk(shift)})
	return scored(reportgen.Input{
		AuditID:      id2,
		ReceivedAt:   t2(),
		AgentVersion: "1.4.1",
		Host:         debianHost(),
		Results:      mk(0),
		Previous:     &reportgen.Previous{AuditID: id1, ReceivedAt: t1(), Score: prev.Score, Grade: prev.Grade, Results: prev.Results},
	})
}

func TestLargeAudit(t *testing.T) {
	cat := loadCatalog(t)
	for _, churn := range []bool{false, true} {
		in := largeAudit(cat, churn)
		s := build(t, in).Summary
		if len(in.Results) != 120 || len(s.Failures) != 34 {
			t.Errorf("churn %v: %d results, %d failures, want 120 and 34", churn, len(in.Results), len(s.Failures))
		}
		changes := len(s.NewFailures) + len(s.Fixed) + len(s.NotRechecked)
		if churn != (changes > 0) {
			t.Errorf("churn %v: %d changes", churn, changes)
		}
	}
}

// BenchmarkBuild builds the report of a 120-result audit with a previous audit, with Build
// (which parses the template) and with a reused Renderer.
func BenchmarkBuild(b *testing.B) {
	cat := loadCatalog(b)
	for _, churn := range []bool{false, true} {
		in := largeAudit(cat, churn)
		name := "steady"
		if churn {
			name = "churn"
		}
		b.Run(name+"/Build", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reportgen.Build(in, cat); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/Renderer", func(b *testing.B) {
			r, err := reportgen.NewRenderer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Build(in, cat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("NewRenderer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reportgen.NewRenderer(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
