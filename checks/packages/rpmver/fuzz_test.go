package rpmver

import "testing"

// FuzzCompare feeds arbitrary strings to Compare, VerCmp and Parse: no panics, both
// comparisons are antisymmetric and reflexive, and a parsed EVR compares equal to its
// reassembled form.
func FuzzCompare(f *testing.F) {
	for _, c := range compareCases {
		f.Add(c.a, c.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for name, cmp := range map[string]func(string, string) int{"Compare": Compare, "VerCmp": VerCmp} {
			ab, ba := cmp(a, b), cmp(b, a)
			if ab != -ba || ab < -1 || ab > 1 {
				t.Fatalf("%s(%q, %q) = %d, %s(%q, %q) = %d", name, a, b, ab, name, b, a, ba)
			}
			if c := cmp(a, a); c != 0 {
				t.Fatalf("%s(%q, %q) = %d", name, a, a, c)
			}
		}
		e, err := Parse(a)
		if err != nil {
			if a != "" {
				t.Fatalf("Parse(%q): %v", a, err)
			}
			return
		}
		if c := Compare(a, e.String()); c != 0 {
			t.Fatalf("Parse(%q) = %+v whose String() %q compares %d", a, e, e.String(), c)
		}
	})
}
