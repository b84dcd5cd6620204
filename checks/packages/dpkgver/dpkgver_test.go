package dpkgver

import (
	"errors"
	"testing"

	"github.com/securecodehq/server-audit/checks/packages/internal/ordertest"
)

// compareCases are ordered pairs with the answer dpkg gives (each is also replayed against
// the real dpkg in TestCompareMatchesDpkg).
var compareCases = []struct {
	a, b string
	want int
}{
	// Plain numbers compare numerically, whatever their length.
	{"1.0", "1.1", -1},
	{"2.0", "10.0", -1},
	{"1.9", "1.10", -1},
	{"1.0", "1.0", 0},
	{"1.0", "1.0.0", -1},
	{"1.0", "1", 1},
	{"1.12345678901234567890123456789012345678901", "1.12345678901234567890123456789012345678900", 1},
	{"1.1234567890123456789012345678901234567890", "1.999999999999999999999999999999999999999", 1},
	{"18446744073709551616", "18446744073709551615", 1},
	// Leading zeros and empty digit runs are the same number.
	{"1.01", "1.1", 0},
	{"1.000000000000000000000000000000000000000001", "1.1", 0},
	{"1.00", "1.0", 0},
	{"1.", "1.0", 0},
	{"007", "7", 0},
	// Tilde sorts before everything, including the end of the string.
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~~", "1.0~", -1},
	{"1.0~~a", "1.0~", -1},
	{"1.0~", "1.0", -1},
	{"1.0~rc1", "1.0~~rc1", 1},
	{"1~", "1-0", -1},
	{"2.0~beta1", "1.9", 1},
	// Letters sort before non-letters, ASCII order among letters.
	{"1.0", "1.0a", -1},
	{"1.0a", "1.0+", -1},
	{"1.0+", "1.0.", -1},
	{"1.0A", "1.0a", -1},
	{"1.0Z", "1.0a", -1},
	{"1.0z", "1.0+", -1},
	{"1.0a", "1.0b", -1},
	{"1.0a1", "1.0aa", -1},
	{"9.2p1", "9.2", 1},
	{"1.0+dfsg", "1.0", 1},
	{"1.0+dfsg", "1.0.1", -1},
	// Epochs: numeric, missing = 0, win over everything else.
	{"1:1.0", "2.0", 1},
	{"0:1.0", "1.0", 0},
	{"00:1.0", "1.0", 0},
	{"01:1.0", "1:1.0", 0},
	{"+1:1.0", "1:1.0", 0},
	{"-0:1.0", "1.0", 0},
	{"2:0.1", "10:0.1", -1},
	{"99999999999999999999:1", "2147483647:9", 1},
	{"1:2:3", "1:2", 1},
	{"1:1.0-1", "1:1.0", 1},
	// Revisions: after the last hyphen; missing = "" = 0.
	{"1.0-1", "1.0-2", -1},
	{"1.0-1", "1.0", 1},
	{"1.0-0", "1.0", 0},
	{"1.0-00", "1.0", 0},
	{"1.0-1~bpo11+1", "1.0-1", -1},
	{"1.0-1+deb12u1", "1.0-1", 1},
	{"1.0-1+deb12u10", "1.0-1+deb12u9", 1},
	{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
	{"1.0-1ubuntu1", "1.0-1", 1},
	{"1.0-1.1", "1.0-1", 1},
	{"1.0-1.1", "1.0-1+b1", 1},
	{"3.0.11-1~deb12u2", "3.0.11-1", -1},
	{"1.0-beta-1", "1.0-1", 1},
	{"1.0-beta-1", "1.0-beta", 1},
	{"1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u2", 1},
	{"2.7.4-0ubuntu0.22.04.1", "2.7.4-0ubuntu0.22.04.10", -1},
	// Blanks around a version are ignored; the empty string is "no version" and lowest.
	{" 1.0\t", "1.0", 0},
	{"", "~", -1},
	{"", "0", -1},
	{"", "", 0},
	// Versions dpkg warns about are still compared; bytes >= 0x80 sort between letters and
	// ASCII punctuation (amd64 dpkg).
	{"1.0_1", "1.0+1", 1},
	{"1.0\x80", "1.0z", 1},
	{"1.0\x80", "1.0+", -1},
	{"a1", "1", 1},
}

func TestCompare(t *testing.T) {
	for _, c := range compareCases {
		ordertest.CheckPair(t, Compare, c.a, c.b, c.want)
	}
}

func TestCompareFragment(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"~", "", -1},
		{"", "a", -1},
		{"a", "+", -1},
		{"1", "", 1},
		{"0", "", 0},
		{"1.2.3", "1.2.3", 0},
		{"1.2.3", "1.2.03", 0},
		{"1.2-3", "1.2+3", 1},
	} {
		if got := CompareFragment(c.a, c.b); got != c.want {
			t.Errorf("CompareFragment(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// validCases pairs versions with the verdict dpkg 1.21 gives: "" accepted, "warn" accepted
// with a warning, "fatal" refused.
var validCases = []struct{ v, want string }{
	{"1.0", ""},
	{"1:1.0-1", ""},
	{"0:0", ""},
	{"1.0~rc1+dfsg-1~bpo11+1", ""},
	{"2147483647:1", ""},
	{"1:2:3", ""},
	{"1.0-beta-1", ""},
	{"+1:1.0", ""},
	{"-0:1.0", ""},
	{"\n1:1.0", ""},
	{" 1.0\t", ""},
	{"00000000000000000000000001:1", ""},
	{"", "fatal"},
	{" ", "fatal"},
	{"1 .0", "fatal"},
	{"1.0\t\n", "fatal"},
	{":1.0", "fatal"},
	{"a:1.0", "fatal"},
	{"+:1", "fatal"},
	{"1a:1.0", "fatal"},
	{"1.0-1:1", "fatal"},
	{"-1:1.0", "fatal"},
	{"-99999999999999999999:1", "fatal"},
	{"2147483648:1.0", "fatal"},
	{"99999999999999999999:1", "fatal"},
	{"1:", "fatal"},
	{"1.0-", "fatal"},
	{"-1", "fatal"},
	{"1:-1", "fatal"},
	{"a1.0", "warn"},
	{"1:a1.0", "warn"},
	{"~1", "warn"},
	{"1.0_1", "warn"},
	{"1.0\n", "warn"},
	{"1.0\x80", "warn"},
	{"1.0-1_1", "warn"},
	{"1.0-1:1:1", "fatal"},
	{"1.0-a:b", "fatal"},
	{"1:1.0-1:1", "warn"},
	{"1.0-1-", "fatal"},
}

func TestValid(t *testing.T) {
	for _, c := range validCases {
		err := Valid(c.v)
		got := ""
		var se *SyntaxError
		switch {
		case err == nil:
		case errors.As(err, &se) && se.Fatal:
			got = "fatal"
		case errors.As(err, &se):
			got = "warn"
		default:
			t.Errorf("Valid(%q) returned %T, want *SyntaxError", c.v, err)
			continue
		}
		if got != c.want {
			t.Errorf("Valid(%q) = %v, want verdict %q", c.v, err, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	v, err := Parse(" 1:2.0-beta-3 ")
	if err != nil || v != (Version{Epoch: "1", Upstream: "2.0-beta", Revision: "3"}) {
		t.Fatalf("Parse = %+v, %v", v, err)
	}
	if v.String() != "1:2.0-beta-3" {
		t.Errorf("String() = %q", v.String())
	}
	if v, err := Parse("a1"); err == nil || v.Upstream != "a1" {
		t.Errorf("Parse(a1) = %+v, %v; want the version and a warning", v, err)
	}
	if _, err := Parse("1.0-"); err == nil {
		t.Error("Parse(1.0-) accepted an empty revision")
	}
}

// TestProperties checks that Compare is a total preorder on generated versions:
// reflexive, antisymmetric, transitive, and consistent for equal versions.
func TestProperties(t *testing.T) {
	g := newVersionGen(1)
	var pool []string
	for range 400 {
		a, b := g.pair()
		pool = append(pool, a, b)
	}
	ordertest.CheckPreorder(t, pool, Compare)
}
