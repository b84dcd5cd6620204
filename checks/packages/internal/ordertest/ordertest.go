// Package ordertest checks that a version comparison is a total preorder, for the tests of
// the dpkg, rpm and apk version packages.
package ordertest

import (
	"math/rand/v2"
	"testing"
)

// CheckPreorder asserts, over every pair of pool and triples drawn with a seeded generator,
// that cmp is reflexive, antisymmetric with results in {-1, 0, 1}, transitive, and that
// equal versions compare the same with any third one.
func CheckPreorder(t testing.TB, pool []string, cmp func(a, b string) int) {
	t.Helper()
	if len(pool) == 0 {
		t.Fatal("empty pool")
	}
	for _, a := range pool {
		if c := cmp(a, a); c != 0 {
			t.Fatalf("cmp(%q, %q) = %d, want 0", a, a, c)
		}
	}
	for i, a := range pool {
		for _, b := range pool[i+1:] {
			ab, ba := cmp(a, b), cmp(b, a)
			if ab != -ba || ab < -1 || ab > 1 {
				t.Fatalf("cmp(%q, %q) = %d but cmp(%q, %q) = %d", a, b, ab, b, a, ba)
			}
		}
	}
	r := rand.New(rand.NewPCG(2, 3))
	for range 200000 {
		a, b, c := pool[r.IntN(len(pool))], pool[r.IntN(len(pool))], pool[r.IntN(len(pool))]
		ab, bc, ac := cmp(a, b), cmp(b, c), cmp(a, c)
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but cmp(a, c) = %d", a, b, c, ac)
		}
		if ab == 0 && bc != ac {
			t.Fatalf("equal %q and %q compare differently with %q: %d vs %d", a, b, c, ac, bc)
		}
	}
}

// CheckPair asserts that cmp(a, b) is want and cmp(b, a) is -want.
func CheckPair(t testing.TB, cmp func(a, b string) int, a, b string, want int) {
	t.Helper()
	if got := cmp(a, b); got != want {
		t.Errorf("Compare(%q, %q) = %d, want %d", a, b, got, want)
	}
	if got := cmp(b, a); got != -want {
		t.Errorf("Compare(%q, %q) = %d, want %d (reversed)", b, a, got, -want)
	}
}
