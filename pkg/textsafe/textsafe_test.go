package textsafe

import (
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"bell\a", `bell\x07`},
		{"esc\x1b[31m", `esc\x1b[31m`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"nonchar\uffff", `nonchar\uffff`},
		{"tab\tnl\n", `tab\x09nl\x0a`},
		{"ünïcödé", "ünïcödé"},
	} {
		if got := Escape(tc.in, Control); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	keepTabs := func(c rune) bool { return c != '\t' && Control(c) }
	if got := Escape("a\tb\x00", keepTabs); got != "a\tb\\x00" {
		t.Errorf("custom predicate: %q", got)
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("x\x1b\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s, Control)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, c := range out {
			if Control(c) {
				t.Fatalf("control %U left in %q", c, out)
			}
		}
		if Escape(out, Control) != out {
			t.Fatalf("not idempotent on %q", out)
		}
	})
}

func TestClosingFence(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want int
	}{
		{"abc`", 1, 3},
		{"a``b`c", 1, 4},
		{"a``b", 2, 1},
		{"a```b", 2, -1},
		{"", 1, -1},
	} {
		if got := ClosingFence(tc.s, tc.n); got != tc.want {
			t.Errorf("ClosingFence(%q, %d) = %d, want %d", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	for in, want := range map[string]string{
		"plain":    "`plain`",
		"a`b":      "``a`b``",
		"a``b`":    "``` a``b` ```",
		"`x":       "`` `x ``",
		" padded ": "`  padded  `",
		" left":    "` left`",
		"":         "``",
	} {
		if got := CodeSpan(in); got != want {
			t.Errorf("CodeSpan(%q) = %q, want %q", in, got, want)
		}
	}
}
