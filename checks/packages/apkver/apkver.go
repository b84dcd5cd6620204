// Package apkver orders Alpine package versions as apk-tools does.
//
// A version is "number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}" (apk-package(5)):
// dot-separated digit runs, at most one lower-case letter, any number of suffixes from
// alpha, beta, pre, rc, cvs, svn, git, hg, p (each with an optional number), an optional
// "~" and lower-case hex commit hash, and an optional "-r" build number.
//
// Two versions are compared component by component from the left:
//   - the first number, suffix numbers and the -r number compare as numbers of any length
//     (apk itself uses machine integers, which overflow past 19 digits);
//   - a later dotted number compares numerically, except that one written with leading zeros
//     sorts below every number without them, more leading zeros lower, as decimal fractions
//     do: 1.001 < 1.01 < 1.1 < 1.2, and 1.00 < 1.0 (the rest of the digits break ties:
//     1.05 > 1.0, 1.05 < 1.06);
//   - letters compare alphabetically, suffixes in the order alpha < beta < pre < rc < cvs <
//     svn < git < hg < p, hashes as strings;
//   - when one version has a component where the other has a different kind of component (or
//     has ended), the side whose component comes earlier in the grammar is higher, except
//     that a pre-release suffix (alpha, beta, pre, rc) is lower than anything, the end
//     included. So 1.0_rc1 < 1.0 < 1.0-r1 < 1.0~abc < 1.0_p1 < 1.0a < 1.0.1.
//
// Compare accepts any string. From the first component that does not fit the grammar on,
// apk falls back to string order: an unparsable remainder sorts above any valid component,
// and two unparsable remainders compare bytewise. Valid reports such strings.
package apkver

import (
	"fmt"
	"strings"
)

// Compare returns -1, 0 or +1 as version a is lower than, equal to or higher than b, as
// apk's version comparison orders them.
func Compare(a, b string) int {
	ta, tb := tokenizer{s: a}, tokenizer{s: b}
	for {
		x, y := ta.next(), tb.next()
		if c := x.compare(y); c != 0 {
			return c
		}
		if x.kind == kindEnd || x.kind == kindInvalid {
			return 0
		}
	}
}

// Valid returns nil when v follows apk's version grammar, and otherwise an error naming the
// first offending byte.
func Valid(v string) error {
	if v == "" {
		return fmt.Errorf("apk version is empty")
	}
	t := tokenizer{s: v}
	for {
		switch tok := t.next(); tok.kind {
		case kindEnd:
			return nil
		case kindInvalid:
			return fmt.Errorf("apk version %q: invalid from byte %d (%q)", v, len(v)-len(tok.text), tok.text)
		}
	}
}

// kind is a version component type. The constant order is the grammar order; it decides
// between different kinds at the same position (see rank).
type kind int

const (
	kindNumber    kind = iota // the first number or a dotted one
	kindLetter                // a single lower-case letter
	kindSuffix                // _alpha ... _p
	kindSuffixNum             // the number after a suffix
	kindHash                  // ~hex
	kindRevision              // -rN
	kindEnd                   // end of the version
	kindInvalid               // the unparsable remainder
)

// token is one version component.
type token struct {
	kind kind
	// text holds the digits of numbers (after any leading zeros), the letter, the hash, or
	// the unparsable remainder.
	text string
	// zeros counts the leading zeros of a dotted number (a decimal fraction).
	zeros int
	// suffix is the suffix rank: alpha -4 ... rc -1, cvs 0 ... p 4.
	suffix int
}

// rank places a token among the other kinds that may follow the same prefix: higher rank,
// higher version. Apart from pre-release suffixes and unparsable text, a kind earlier in the
// grammar ranks higher.
func (t token) rank() int {
	switch t.kind {
	case kindSuffix:
		if t.suffix < 0 {
			return 0 // pre-release: below even the end
		}
		return 5
	case kindEnd:
		return 1
	case kindRevision:
		return 2
	case kindHash:
		return 3
	case kindSuffixNum:
		return 4
	case kindLetter:
		return 6
	case kindNumber:
		return 7
	}
	return 8 // kindInvalid
}

// compare orders two tokens found at the same position.
func (t token) compare(u token) int {
	if r, s := t.rank(), u.rank(); r != s {
		return sign(r - s)
	}
	switch t.kind {
	case kindNumber:
		if t.zeros != u.zeros {
			return sign(u.zeros - t.zeros) // more leading zeros, smaller fraction
		}
		return compareDigits(t.text, u.text)
	case kindSuffix:
		return sign(t.suffix - u.suffix)
	case kindSuffixNum, kindRevision:
		return compareDigits(t.text, u.text)
	case kindLetter, kindHash, kindInvalid:
		return strings.Compare(t.text, u.text)
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// compareDigits orders two strings of decimal digits by value, whatever their length.
func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}
