package rpmver

import (
	"errors"
	"testing"

	"github.com/securecodehq/server-audit/checks/packages/internal/ordertest"
)

// compareCases are ordered EVR pairs with rpm 4.18's answer (each is also replayed against
// the real rpm in TestCompareMatchesRPM).
var compareCases = []struct {
	a, b string
	want int
}{
	{"1.0", "1.1", -1},
	{"1.0", "1.0", 0},
	{"2.0", "10.0", -1},
	{"1.9", "1.10", -1},
	{"1.0", "1.0.0", -1},
	{"1.12345678901234567890123456789012345678901", "1.12345678901234567890123456789012345678900", 1},
	{"18446744073709551616", "18446744073709551615", 1},
	// Leading zeros, separators and equal-but-differently-written versions.
	{"1.01", "1.1", 0},
	{"1.000000000000000000000000000000000000000001", "1.1", 0},
	{"1.0", "1_0", 0},
	{"1.0", "1.0.", 0},
	{"1.0", "1..0", 0},
	{"1a", "1.a", 0},
	{"1.0", "1+0", 0},
	{"1é0", "1.0", 0},
	// Numbers beat letters; letters compare bytewise.
	{"1.a", "1.1", -1},
	{"1.0a", "1.0.1", -1},
	{"1.0a", "1.0", 1},
	{"1.0A", "1.0a", -1},
	{"1.0rc1", "1.0", 1},
	{"1.0alpha", "1.0beta", -1},
	{"2.0.0b1", "2.0.0", 1},
	// Tilde: before everything, even the end.
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~~", "1.0~", -1},
	{"1.0~", "1.0", -1},
	{"1.0~rc1", "0.9", 1},
	// Caret: after the end, before any further segment.
	{"1.0^", "1.0", 1},
	{"1.0^git1", "1.0", 1},
	{"1.0^git1", "1.0.1", -1},
	{"1.0^git1", "1.0a", -1},
	{"1.0^git1", "1.0^git2", -1},
	{"1.0^20200101", "1.0^20191231", 1},
	{"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0~rc1^git1", "1.0", -1},
	{"1.0^~", "1.0^", -1},
	{"1.0^~", "1.0", 1},
	// Epochs: missing = 0, compared numerically.
	{"1:1.0", "2.0", 1},
	{"0:1.0", "1.0", 0},
	{":1.0", "1.0", 0},
	{"00:1.0", "0:1.0", 0},
	{"01:1.0", "1:1.0", 0},
	{"2:0.1", "10:0.1", -1},
	{"99999999999999999999999999:1", "99999999999999999999999998:2", 1},
	{"a:1.0", "1.0", -1},
	{"1:", "0:9", 1},
	// Releases: after the last hyphen; a missing release is lower than any release.
	{"1.0-1", "1.0-2", -1},
	{"1.0-1.el9", "1.0-1.el9_3", -1},
	{"1.0-2.el9", "1.0-10.el9", -1},
	{"1.0-1", "1.0", 1},
	{"1.0", "1.0-~", -1},
	{"1.0", "1.0-", -1},
	{"1.0-", "1.0-~", 1},
	{"1.0-", "1.0-0", -1},
	{"1.0-1-2", "1.0-1-1", 1},
	{"1.0-1-2", "1.0-2", 1},
	{"1:1.0-1", "1:1.0", 1},
	{"1:2-3:4", "1:2-3", 1},
	{"0:1.0-1.el9", "1.0-1.el9", 0},
	{"1.0-1.module+el8.4.0+10596+e8c6a1f1", "1.0-1.module+el8.4.0+10597+0abc", -1},
	// The empty string (rpm refuses it) is an empty version.
	{"", "", 0},
	{"", "0", -1},
	{"", "~", 1},
}

func TestCompare(t *testing.T) {
	for _, c := range compareCases {
		ordertest.CheckPair(t, Compare, c.a, c.b, c.want)
	}
}

func TestVerCmp(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "~", 1},
		{"", "^", -1},
		{"", "a", -1},
		{"", ".", 0},
		{"1:1.0", "2.0", -1}, // no EVR splitting here: "1:1.0" is segments 1, 1, 0
		{"1-2", "1.2", 0},
	} {
		if got := VerCmp(c.a, c.b); got != c.want {
			t.Errorf("VerCmp(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]EVR{
		"1:2.0-3.el9":  {Epoch: "1", Version: "2.0", Release: "3.el9", HasRelease: true},
		"2.0":          {Version: "2.0"},
		"2.0-":         {Version: "2.0", HasRelease: true},
		":2.0":         {Epoch: "0", Version: "2.0"},
		"a:2.0-1":      {Version: "a:2.0", Release: "1", HasRelease: true},
		"1:2-3-4":      {Epoch: "1", Version: "2-3", Release: "4", HasRelease: true},
		"1:2-3:4":      {Epoch: "1", Version: "2", Release: "3:4", HasRelease: true},
		" 1:2":         {Version: " 1:2"},
		"007:1.0~rc1^": {Epoch: "007", Version: "1.0~rc1^"},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in && in != ":2.0" {
			t.Errorf("Parse(%q).String() = %q", in, got.String())
		}
	}
	if _, err := Parse(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("Parse(\"\") error = %v, want ErrEmpty", err)
	}
}

// TestProperties checks that Compare and VerCmp are total preorders on generated EVRs.
func TestProperties(t *testing.T) {
	g := newEVRGen(1)
	var pool []string
	for range 400 {
		a, b := g.pair()
		pool = append(pool, a, b)
	}
	ordertest.CheckPreorder(t, pool, Compare)
	ordertest.CheckPreorder(t, pool, VerCmp)
}
