// Package score computes the hardening score and grade, one definition for the agent and the
// server.
//
// The score is 100 × (weight of passed checks) / (weight of passed and failed checks), with
// weights critical 10, high 5, medium 2, low 1 and info 0, rounded down. Skipped, errored and
// suppressed checks are reported but not scored. The grade follows the score in bands of ten
// (A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, F below), except that a failed critical check caps the
// grade at D: one critical hole should never hide behind many passing checks. When nothing
// weighted was evaluated there is no score and the grade is "N/A".
package score

import "github.com/securecodehq/server-audit/pkg/catalog"

// Grades, best first.
const (
	GradeA    = "A"
	GradeB    = "B"
	GradeC    = "C"
	GradeD    = "D"
	GradeF    = "F"
	GradeNone = "N/A"
)

// Grades lists every grade value.
func Grades() []string { return []string{GradeA, GradeB, GradeC, GradeD, GradeF, GradeNone} }

// Weight returns the score weight of a severity.
func Weight(s catalog.Severity) int {
	switch s {
	case catalog.SeverityCritical:
		return 10
	case catalog.SeverityHigh:
		return 5
	case catalog.SeverityMedium:
		return 2
	case catalog.SeverityLow:
		return 1
	}
	return 0
}

// Outcome is one evaluated check as the score sees it.
type Outcome struct {
	Severity catalog.Severity
	// Passed is true for pass, false for fail. Do not pass skipped or errored checks.
	Passed bool
}

// Summary is a computed score.
type Summary struct {
	// Score is 0–100; meaningful only when Scored is true.
	Score int `json:"score"`
	// Grade is A–F, or N/A when nothing was scored.
	Grade string `json:"grade"`
	// Scored is false when no weighted check passed or failed.
	Scored bool `json:"scored"`
	// Earned and Possible are the summed weights behind the score.
	Earned   int `json:"earned"`
	Possible int `json:"possible"`
}

// Compute scores a set of outcomes.
func Compute(outcomes []Outcome) Summary {
	var s Summary
	criticalFailed := false
	for _, o := range outcomes {
		w := Weight(o.Severity)
		s.Possible += w
		if o.Passed {
			s.Earned += w
		} else if o.Severity == catalog.SeverityCritical {
			criticalFailed = true
		}
	}
	if s.Possible == 0 {
		s.Grade = GradeNone
		return s
	}
	s.Scored = true
	s.Score = s.Earned * 100 / s.Possible
	s.Grade = gradeFor(s.Score)
	if criticalFailed && s.Grade < GradeD {
		s.Grade = GradeD
	}
	return s
}

func gradeFor(score int) string {
	switch {
	case score >= 90:
		return GradeA
	case score >= 80:
		return GradeB
	case score >= 70:
		return GradeC
	case score >= 60:
		return GradeD
	}
	return GradeF
}
