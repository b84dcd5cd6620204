package score_test

import (
	"slices"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/score"
)

func TestWeight(t *testing.T) {
	want := map[catalog.Severity]int{
		catalog.SeverityCritical: 10, catalog.SeverityHigh: 5, catalog.SeverityMedium: 2,
		catalog.SeverityLow: 1, catalog.SeverityInfo: 0, "": 0, "bogus": 0,
	}
	for s, w := range want {
		if got := score.Weight(s); got != w {
			t.Errorf("Weight(%q) = %d, want %d", s, got, w)
		}
	}
}

// outcomes returns pass passed and fail failed outcomes of severity s.
func outcomes(s catalog.Severity, pass, fail int) []score.Outcome {
	var out []score.Outcome
	for range pass {
		out = append(out, score.Outcome{Severity: s, Passed: true})
	}
	for range fail {
		out = append(out, score.Outcome{Severity: s})
	}
	return out
}

func TestComputeWeights(t *testing.T) {
	// One failed critical (10) and passed high (5), medium (2), low (1), info (0):
	// 8 of 18 → 44.
	in := []score.Outcome{
		{Severity: catalog.SeverityCritical},
		{Severity: catalog.SeverityHigh, Passed: true},
		{Severity: catalog.SeverityMedium, Passed: true},
		{Severity: catalog.SeverityLow, Passed: true},
		{Severity: catalog.SeverityInfo, Passed: true},
		{Severity: catalog.SeverityInfo},
	}
	got := score.Compute(in)
	want := score.Summary{Score: 44, Grade: score.GradeF, Scored: true, Earned: 8, Possible: 18}
	if got != want {
		t.Errorf("Compute = %+v, want %+v", got, want)
	}
}

func TestComputeRoundsDown(t *testing.T) {
	tests := []struct {
		in        []score.Outcome
		score     int
		earned    int
		possible  int
		wantGrade string
	}{
		// 2 of 3 = 66.67 → 66.
		{outcomes(catalog.SeverityLow, 2, 1), 66, 2, 3, score.GradeD},
		// 1 of 3 = 33.3 → 33.
		{outcomes(catalog.SeverityLow, 1, 2), 33, 1, 3, score.GradeF},
		// 199 of 200 = 99.5 → 99, never 100 while something fails.
		{outcomes(catalog.SeverityLow, 199, 1), 99, 199, 200, score.GradeA},
		// 8 of 9 = 88.9 → 88 (B, not A).
		{outcomes(catalog.SeverityLow, 8, 1), 88, 8, 9, score.GradeB},
	}
	for _, tt := range tests {
		got := score.Compute(tt.in)
		if got.Score != tt.score || got.Earned != tt.earned || got.Possible != tt.possible || got.Grade != tt.wantGrade || !got.Scored {
			t.Errorf("Compute(%d outcomes) = %+v; want score %d (%d/%d) grade %s", len(tt.in), got, tt.score, tt.earned, tt.possible, tt.wantGrade)
		}
	}
}

func TestGradeBands(t *testing.T) {
	tests := map[int]string{
		0: score.GradeF, 1: score.GradeF, 59: score.GradeF,
		60: score.GradeD, 69: score.GradeD,
		70: score.GradeC, 79: score.GradeC,
		80: score.GradeB, 89: score.GradeB,
		90: score.GradeA, 99: score.GradeA, 100: score.GradeA,
	}
	for want, grade := range tests {
		// k passed low checks out of 100 score exactly k.
		got := score.Compute(outcomes(catalog.SeverityLow, want, 100-want))
		if got.Score != want || got.Grade != grade {
			t.Errorf("%d/100: Compute = %+v; want score %d grade %s", want, got, want, grade)
		}
	}
}

func TestCriticalFailureCapsGrade(t *testing.T) {
	tests := []struct {
		name  string
		in    []score.Outcome
		score int
		grade string
	}{
		// 20 of 21 criticals passed: 200/210 = 95, an A without the cap.
		{"A capped", outcomes(catalog.SeverityCritical, 20, 1), 95, score.GradeD},
		// One failed critical among many passing highs: 500/510 = 98.
		{"A from other severities", append(outcomes(catalog.SeverityHigh, 100, 0), outcomes(catalog.SeverityCritical, 0, 1)...), 98, score.GradeD},
		// 85: B → D.
		{"B capped", append(outcomes(catalog.SeverityLow, 75, 5), outcomes(catalog.SeverityCritical, 1, 1)...), 85, score.GradeD},
		// 72: C → D.
		{"C capped", append(outcomes(catalog.SeverityLow, 62, 18), outcomes(catalog.SeverityCritical, 1, 1)...), 72, score.GradeD},
		// D and F are not raised.
		{"D stays", append(outcomes(catalog.SeverityLow, 55, 25), outcomes(catalog.SeverityCritical, 1, 1)...), 65, score.GradeD},
		{"F stays", outcomes(catalog.SeverityCritical, 1, 1), 50, score.GradeF},
		{"all critical failed", outcomes(catalog.SeverityCritical, 0, 3), 0, score.GradeF},
		// A passed critical does not cap.
		{"critical passed", append(outcomes(catalog.SeverityCritical, 1, 0), outcomes(catalog.SeverityLow, 10, 0)...), 100, score.GradeA},
		// A failed high does not cap.
		{"high failed", append(outcomes(catalog.SeverityLow, 100, 0), outcomes(catalog.SeverityHigh, 0, 1)...), 95, score.GradeA},
	}
	for _, tt := range tests {
		got := score.Compute(tt.in)
		if got.Score != tt.score || got.Grade != tt.grade {
			t.Errorf("%s: Compute = %+v; want score %d grade %s", tt.name, got, tt.score, tt.grade)
		}
	}
}

func TestNothingScored(t *testing.T) {
	for name, in := range map[string][]score.Outcome{
		"nil":       nil,
		"empty":     {},
		"info only": outcomes(catalog.SeverityInfo, 3, 4),
		"unknown":   {{Severity: "bogus"}},
	} {
		got := score.Compute(in)
		if got != (score.Summary{Grade: score.GradeNone}) {
			t.Errorf("%s: Compute = %+v; want N/A, unscored", name, got)
		}
	}
	// All failed is scored (0, F), not N/A.
	if got := score.Compute(outcomes(catalog.SeverityMedium, 0, 2)); !got.Scored || got.Score != 0 || got.Grade != score.GradeF || got.Possible != 4 {
		t.Errorf("all failed: %+v", got)
	}
}

func TestGrades(t *testing.T) {
	if got := score.Grades(); !slices.Equal(got, []string{"A", "B", "C", "D", "F", "N/A"}) {
		t.Errorf("Grades() = %v", got)
	}
}
