package apkver

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/packages/internal/ordertest"
)

// apk-tools is not packaged for Debian, so these orderings are the reference: each group
// states the rule from apk-package(5) / apk's comparison it exercises.
var compareCases = []struct {
	a, b string
	want int
}{
	// Numbers: numeric, any length; the first number ignores leading zeros.
	{"1.0", "1.1", -1},
	{"1.9", "1.10", -1},
	{"2.0", "10.0", -1},
	{"006", "6", 0},
	{"006", "1.0.0", 1},
	{"1.2", "1.2.1", -1},
	{"1.2.12.1", "1.2.13", -1},
	{"20050718-r1", "2.59", 1},
	{"1.12345678901234567890123456789012345678901", "1.12345678901234567890123456789012345678900", 1},
	{"18446744073709551616", "18446744073709551615", 1},
	// Dotted numbers with leading zeros are fractions: below any number without them.
	{"1.01", "1.1", -1},
	{"1.05", "1.4", -1},
	{"1.001", "1.01", -1},
	{"1.00", "1.0", -1},
	{"1.0", "1.01", -1},
	{"1.05", "1.06", -1},
	{"1.02.07", "1.02.10", -1},
	{"1.0", "1.0", 0},
	{"0.01", "0.1", -1},
	{"2.01.01_alpha10", "0.94", 1},
	{"1.000000000000000000000000000000000000000001", "1.0000000000000000000000000000000000000000010", -1},
	// A letter: after the numbers, alphabetical, above the end and suffixes, below a dot.
	{"1.0a", "1.0b", -1},
	{"1.0a", "1.0", 1},
	{"1.0a", "1.0.1", -1},
	{"2.3.0b-r1", "2.3.0b-r2", -1},
	{"1.7", "1.7b", -1},
	{"1.6d", "1.2.07.8", 1},
	// Suffixes: alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p.
	{"1.0_alpha", "1.0_beta", -1},
	{"1.0_beta", "1.0_pre", -1},
	{"1.0_pre", "1.0_rc", -1},
	{"1.0_rc", "1.0", -1},
	{"1.0", "1.0_cvs", -1},
	{"1.0_cvs", "1.0_svn", -1},
	{"1.0_svn", "1.0_git", -1},
	{"1.0_git", "1.0_hg", -1},
	{"1.0_hg", "1.0_p", -1},
	{"1.0_rc1", "1.0_rc2", -1},
	{"1.0_rc10", "1.0_rc9", 1},
	{"1.0_alpha", "1.0_alpha1", -1},
	{"1.0_alpha0", "1.0_alpha", 1},
	{"1.0_alpha_pre2", "1.0_alpha", -1},
	{"1.0_alpha1", "1.0_alpha_p", -1},
	{"1.0_alpha1", "1.0_alpha_beta", 1},
	{"1.0_p1", "1.0.1", -1},
	{"1.0_p1", "1.0a", -1},
	{"1.0_rc1", "1.0-r5", -1},
	{"1.0_p1", "1.0-r5", 1},
	{"0.20070118", "0.20070207_rc1", -1},
	{"1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1},
	// Revision: numeric, and any -rN (even -r0) is above no revision.
	{"1.0-r1", "1.0-r2", -1},
	{"1.0-r10", "1.0-r9", 1},
	{"1.0-r0", "1.0", 1},
	{"1.0-r1", "1.0.1", -1},
	{"1.0-r1", "1.0a", -1},
	{"1.0-r01", "1.0-r1", 0},
	// Hash: between the suffixes and the revision in the grammar, strings among themselves.
	{"1.0~abc", "1.0", 1},
	{"1.0~abc", "1.0-r5", 1},
	{"1.0~abc-r1", "1.0~abc-r2", -1},
	{"1.0~abc", "1.0~abd", -1},
	{"1.0~abc", "1.0_p1", -1},
	{"1.0_p1~abc", "1.0_p1", 1},
	{"1.0_rc1~abc", "1.0", -1},
	// Invalid remainders sort above valid components, bytewise among themselves, and the
	// valid prefix still counts.
	{"23_foo", "4_beta", 1},
	{"1.0", "1.0bc", -1},
	{"1.0bc", "1.0bd", -1},
	{"1.0_foo", "1.0.1", 1},
	{"1.0-r1a", "1.0-r1", 1},
	{"1.0.x", "1.0.y", -1},
	{"abc", "1.0", 1},
	{"", "1.0", 1},
}

func TestCompare(t *testing.T) {
	for _, c := range compareCases {
		ordertest.CheckPair(t, Compare, c.a, c.b, c.want)
	}
}

// TestSortedChain checks a long hand-ordered list: every version is below all later ones.
func TestSortedChain(t *testing.T) {
	chain := []string{
		"0.9", "1.00001", "1.0001", "1.001", "1.0_alpha", "1.0_alpha1", "1.0_alpha2_beta",
		"1.0_alpha2", "1.0_beta", "1.0_pre1", "1.0_rc1", "1.0_rc1-r1", "1.0", "1.0-r0",
		"1.0-r1", "1.0~0a1", "1.0~0a1-r1", "1.0_cvs", "1.0_svn", "1.0_git20240101", "1.0_hg",
		"1.0_p1", "1.0_p1-r1", "1.0_p2", "1.0a", "1.0b_p1", "1.0z", "1.0.1", "1.01",
		"1.01.1", "1.1", "1.1.0", "1.2", "1.10", "2", "10", "20050718",
	}
	for i, a := range chain {
		for _, b := range chain[i+1:] {
			if c := Compare(a, b); c != -1 {
				t.Errorf("Compare(%q, %q) = %d, want -1", a, b, c)
			}
		}
	}
}

func TestValid(t *testing.T) {
	for _, v := range []string{
		"1", "1.0", "1.2.3.4.5", "006", "1.0a", "1.0_rc1", "1.0_alpha_beta2_p3", "1.0_p",
		"1.0~0123456789abcdef", "1.0-r0", "1.0a_p1~deadbeef-r12", "20050718-r1",
		"1.000000000000000000000000000000000000000001",
	} {
		if err := Valid(v); err != nil {
			t.Errorf("Valid(%q) = %v, want nil", v, err)
		}
	}
	for _, v := range []string{
		"", "a", "v1.0", ".1", "1.", "1..0", "1.0bc", "1.0A", "1a2", "1.0a.1", "1.0_foo",
		"1.0_", "1.0_RC1", "1.0_rc1a", "1.0~", "1.0~xyz", "1.0~ABC", "1.0-", "1.0-r",
		"1.0-1", "1.0-r1-r2", "1.0-r1a", "1.0-r1_p1", "1.0~abc_p1", "1.0 ", " 1.0", "1,0",
		"1.0+git", "1:1.0",
	} {
		if err := Valid(v); err == nil {
			t.Errorf("Valid(%q) = nil, want an error", v)
		}
	}
}

// genVersion returns a random, mostly valid apk version.
func genVersion(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	num := func() string {
		switch r.IntN(6) {
		case 0:
			return pick("0", "00", "01", "007", "010")
		case 1:
			return strings.Repeat("9", 20+r.IntN(20))
		default:
			return strconv.Itoa(r.IntN(12))
		}
	}
	var b strings.Builder
	b.WriteString(num())
	for range r.IntN(4) {
		b.WriteString("." + num())
	}
	if r.IntN(4) == 0 {
		b.WriteString(pick("a", "b", "z"))
	}
	for range r.IntN(3) {
		b.WriteString("_" + pick("alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"))
		if r.IntN(2) == 0 {
			b.WriteString(num())
		}
	}
	if r.IntN(6) == 0 {
		b.WriteString("~" + pick("a", "b", "0f", "deadbeef"))
	}
	if r.IntN(2) == 0 {
		b.WriteString("-r" + num())
	}
	s := b.String()
	if r.IntN(15) == 0 { // damage it
		pos := r.IntN(len(s) + 1)
		s = s[:pos] + pick("x", ".", "_", "-", "A", "_foo", "~", "") + s[pos:]
	}
	return s
}

// TestProperties checks that Compare is a total preorder on generated versions.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var pool []string
	for range 800 {
		pool = append(pool, genVersion(r))
	}
	for _, c := range compareCases {
		pool = append(pool, c.a, c.b)
	}
	ordertest.CheckPreorder(t, pool, Compare)
}
