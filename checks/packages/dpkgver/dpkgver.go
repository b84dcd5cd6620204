// Package dpkgver orders Debian package versions exactly as dpkg does: epoch, upstream
// version and revision, with "~" sorting before everything, even the end of the string.
//
// The syntax is "[epoch:]upstream_version[-debian_revision]" (deb-version(7), Debian Policy
// §5.6.12). The epoch ends at the first colon, the revision starts after the last hyphen.
// Epochs compare as numbers (a missing epoch is 0); the upstream version and then the revision
// compare with dpkg's mixed lexical/numeric algorithm (see CompareFragment). A missing
// revision compares like an empty one, and an empty digit run counts as zero, so "1.0",
// "1.0-0" and "0:1.0-00" are all equal.
//
// Compare accepts any string. Strings dpkg refuses (see Valid) are still ordered
// deterministically, but that order is only meaningful for versions Valid accepts or merely
// warns about.
package dpkgver

import "strings"

// Version is a parsed Debian version.
type Version struct {
	// Epoch is the epoch text as written (without the colon), "" when absent.
	Epoch string
	// Upstream is the upstream version.
	Upstream string
	// Revision is the Debian revision (after the last hyphen), "" when absent.
	Revision string
}

// String reassembles the version. It is the input of Parse without surrounding blanks.
func (v Version) String() string {
	s := v.Upstream
	if v.Epoch != "" {
		s = v.Epoch + ":" + s
	}
	if v.Revision != "" {
		s += "-" + v.Revision
	}
	return s
}

// Compare returns -1, 0 or +1 as version a is lower than, equal to or higher than b, as
// `dpkg --compare-versions a lt|eq|gt b` would say.
//
// The empty string means "no version" and sorts before every version, as it does for
// dpkg --compare-versions with the lt/le/eq/ge/gt operators (dpkg also reads the literal
// "<unknown>" that way; Compare does not).
func Compare(a, b string) int {
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	return split(a).compare(split(b))
}

// Parse splits a version into epoch, upstream version and revision after checking it with
// Valid. Versions dpkg merely warns about are returned together with the *SyntaxError.
func Parse(s string) (Version, error) {
	err := Valid(s)
	if se, ok := err.(*SyntaxError); ok && se.Fatal {
		return Version{}, err
	}
	p := split(s)
	v := Version{Upstream: p.upstream, Revision: p.revision}
	if p.hasEpoch {
		v.Epoch = p.epochText
	}
	return v, err
}

// parts is a leniently split version, the unit Compare works on.
type parts struct {
	hasEpoch  bool
	epochText string // as written, before the colon
	epochNeg  bool   // a "-" sign on a non-zero epoch
	epochNum  string // epoch digits without sign or leading zeros ("" is zero)
	upstream  string
	revision  string
}

// split divides s the way dpkg does, but never fails: leading and trailing blanks are
// dropped, the text before the first colon is the epoch only when it is a (signed) number as
// strtol reads it, and the revision follows the last hyphen. A string whose epoch is not a
// number is kept whole as the upstream version (dpkg rejects it; this only keeps the order
// total).
func split(s string) parts {
	s = trimBlanks(s)
	var p parts
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if neg, num, ok := parseEpoch(s[:i]); ok {
			p.hasEpoch, p.epochText, p.epochNeg, p.epochNum = true, s[:i], neg, num
			s = s[i+1:]
		}
	}
	p.upstream = s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		p.upstream, p.revision = s[:i], s[i+1:]
	}
	return p
}

// compare orders two split versions: epoch, then upstream, then revision.
func (p parts) compare(q parts) int {
	if c := compareEpoch(p, q); c != 0 {
		return c
	}
	if c := CompareFragment(p.upstream, q.upstream); c != 0 {
		return c
	}
	return CompareFragment(p.revision, q.revision)
}

// compareEpoch orders two epochs numerically; a missing epoch is zero.
func compareEpoch(p, q parts) int {
	switch {
	case p.epochNeg && !q.epochNeg:
		return -1
	case !p.epochNeg && q.epochNeg:
		return 1
	}
	c := compareDigits(p.epochNum, q.epochNum)
	if p.epochNeg {
		return -c
	}
	return c
}

// isBlank reports the characters dpkg strips around a version and refuses inside it.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isCSpace reports the characters C's isspace accepts in the "C" locale; strtol skips them
// before an epoch.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// trimBlanks removes leading and trailing spaces and tabs.
func trimBlanks(s string) string {
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// parseEpoch reads an epoch the way strtol(3) does in base 10: optional white space, an
// optional sign, then digits, which must run up to the end of e. It returns whether the
// value is negative (a minus sign on zero is not), the digits without leading zeros, and
// whether e was a number at all.
func parseEpoch(e string) (neg bool, num string, ok bool) {
	for len(e) > 0 && isCSpace(e[0]) {
		e = e[1:]
	}
	if len(e) > 0 && (e[0] == '+' || e[0] == '-') {
		neg = e[0] == '-'
		e = e[1:]
	}
	if e == "" {
		return false, "", false
	}
	for i := 0; i < len(e); i++ {
		if !isDigit(e[i]) {
			return false, "", false
		}
	}
	num = strings.TrimLeft(e, "0")
	return neg && num != "", num, true
}

// compareDigits orders two strings of decimal digits by value, whatever their length.
func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	switch {
	case len(a) != len(b):
		return sign(len(a) - len(b))
	default:
		return strings.Compare(a, b)
	}
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
