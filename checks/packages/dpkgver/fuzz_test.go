package dpkgver

import (
	"errors"
	"testing"
)

// FuzzCompare feeds arbitrary strings to Compare, Valid and Parse: no panics, Compare is
// antisymmetric and reflexive, and a version Parse accepts compares equal to its
// reassembled form.
func FuzzCompare(f *testing.F) {
	for _, c := range compareCases {
		f.Add(c.a, c.b)
	}
	for _, c := range validCases {
		f.Add(c.v, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := Compare(a, b), Compare(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("Compare(%q, %q) = %d, Compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if c := Compare(a, a); c != 0 {
			t.Fatalf("Compare(%q, %q) = %d", a, a, c)
		}
		v, err := Parse(a)
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Parse(%q) error %T is not a *SyntaxError", a, err)
		}
		if se != nil && se.Fatal {
			return
		}
		if c := Compare(a, v.String()); c != 0 {
			t.Fatalf("Parse(%q) = %+v whose String() %q compares %d", a, v, v.String(), c)
		}
		if err == nil && Valid(v.String()) != nil {
			t.Fatalf("valid %q reassembles to invalid %q", a, v.String())
		}
	})
}
