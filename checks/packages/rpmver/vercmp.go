package rpmver

import "strings"

// VerCmp compares two version (or release, or epoch) strings with rpm's segment algorithm
// (rpmvercmp). Each string is read as a sequence of segments: runs of ASCII digits, runs of
// ASCII letters, "~" and "^"; every other byte only separates segments and is otherwise
// ignored, so "1.0" == "1_0" == "1.0." and "1a" == "1.a". Segments are compared pairwise:
//   - "~" sorts before anything, even the end of the string: "1.0~rc1" < "1.0";
//   - "^" sorts after the end of the string but before any other segment:
//     "1.0" < "1.0^git1" < "1.0.1";
//   - a number beats letters at the same position: "1.a" < "1.1", "1.0a" < "1.0.1";
//   - numbers compare by value, leading zeros ignored, any length ("010" == "10");
//   - letter runs compare bytewise (case-sensitive, "Z" < "a").
//
// When one string runs out, the one with segments left is higher (unless what is left is "~").
func VerCmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		i, j = skipSeparators(a, i), skipSeparators(b, j)
		endA, endB := i == len(a), j == len(b)
		if (!endA && a[i] == '~') || (!endB && b[j] == '~') {
			switch {
			case endA || a[i] != '~':
				return 1
			case endB || b[j] != '~':
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		if (!endA && a[i] == '^') || (!endB && b[j] == '^') {
			switch {
			case endA:
				return -1
			case endB:
				return 1
			case a[i] != '^':
				return 1
			case b[j] != '^':
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		if endA || endB {
			break
		}
		numeric := isDigit(a[i])
		class := isLetter
		if numeric {
			class = isDigit
		}
		si, sj := i, j
		for i < len(a) && class(a[i]) {
			i++
		}
		for j < len(b) && class(b[j]) {
			j++
		}
		if sj == j { // b has the other kind of segment here; numbers win
			if numeric {
				return 1
			}
			return -1
		}
		var c int
		if numeric {
			c = compareDigits(a[si:i], b[sj:j])
		} else {
			c = strings.Compare(a[si:i], b[sj:j])
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case i == len(a) && j == len(b):
		return 0
	case i == len(a):
		return -1
	}
	return 1
}

// skipSeparators advances past bytes that are not segment material.
func skipSeparators(s string, i int) int {
	for i < len(s) && !isDigit(s[i]) && !isLetter(s[i]) && s[i] != '~' && s[i] != '^' {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// compareDigits orders two strings of decimal digits by value, whatever their length.
func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}
