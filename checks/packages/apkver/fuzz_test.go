package apkver

import "testing"

// FuzzCompare feeds arbitrary strings to Compare and Valid: no panics, Compare is
// antisymmetric and reflexive, and equal valid versions are both valid or both not.
func FuzzCompare(f *testing.F) {
	for _, c := range compareCases {
		f.Add(c.a, c.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := Compare(a, b), Compare(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("Compare(%q, %q) = %d, Compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if c := Compare(a, a); c != 0 {
			t.Fatalf("Compare(%q, %q) = %d", a, a, c)
		}
		if ab == 0 && (Valid(a) == nil) != (Valid(b) == nil) {
			t.Fatalf("%q and %q compare equal but only one is valid", a, b)
		}
	})
}
