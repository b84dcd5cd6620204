package rpmver

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// evrGen produces realistic and nasty RPM EVRs from a seeded RNG: Fedora/RHEL releases,
// "~" pre-releases and "^" snapshots, epochs (missing, zero, padded, empty, huge), odd
// separators, letters of both cases, leading zeros, 40-digit numbers, several hyphens, and
// bytes rpm ignores.
type evrGen struct{ r *rand.Rand }

func newEVRGen(seed uint64) evrGen { return evrGen{rand.New(rand.NewPCG(seed, 0x72706d76))} }

func (g evrGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g evrGen) chance(p float64) bool { return g.r.Float64() < p }

func (g evrGen) number() string {
	switch n := g.r.IntN(20); {
	case n < 12:
		return strconv.Itoa(g.r.IntN(13))
	case n < 14:
		return strings.Repeat("0", 1+g.r.IntN(3)) + strconv.Itoa(g.r.IntN(10))
	case n < 16:
		return strconv.Itoa(20000101 + g.r.IntN(260000))
	case n < 18:
		var b strings.Builder
		for range 20 + g.r.IntN(26) {
			b.WriteByte(byte('0' + g.r.IntN(10)))
		}
		return b.String()
	default:
		return strconv.Itoa(g.r.IntN(1000))
	}
}

func (g evrGen) word() string {
	return g.pick("a", "b", "z", "A", "Z", "rc", "RC", "beta", "alpha", "pre", "git", "svn",
		"el", "fc", "module", "p", "post", "dev", "snap", "abc", "aB", "g1a2b3c")
}

// segments builds a dotted string of numbers and words with rpm's separators.
func (g evrGen) segments(n int) string {
	var b strings.Builder
	b.WriteString(g.number())
	for range n {
		b.WriteString(g.pick(".", ".", ".", "_", "+", "~", "^", "", "~~", "^^", ".."))
		switch g.r.IntN(4) {
		case 0:
			b.WriteString(g.word())
		case 1:
			b.WriteString(g.word() + g.number())
		default:
			b.WriteString(g.number())
		}
	}
	return b.String()
}

func (g evrGen) version() string {
	v := g.segments(g.r.IntN(5))
	if g.chance(0.15) {
		v += g.pick("~rc1", "~beta2", "^20240101git1a2b3c", "^", "~", "^1", "a", ".", "_1")
	}
	return v
}

func (g evrGen) release() string {
	if g.chance(0.5) {
		return g.pick("1", "0", "2", "1.el9", "1.el9_3", "2.el8_6.1", "3.fc38", "0.1.rc1.el8_7",
			"0.2.beta.fc39", "1.module+el8.4.0+10596+e8c6a1f1", "1.amzn2023", "150500.1.1", "", "~",
			"1^", "01", "1.1", "1.el9~bootstrap")
	}
	return g.segments(g.r.IntN(4))
}

func (g evrGen) epoch() string {
	return g.pick("0", "1", "1", "2", "3", "10", "01", "00", "", "7", "4294967296", "99999999999999999999")
}

// evr returns one EVR; a few are damaged with bytes or shapes rpm still accepts.
func (g evrGen) evr() string {
	s := g.version()
	if g.chance(0.3) {
		s = g.epoch() + ":" + s
	}
	if g.chance(0.7) {
		s += "-" + g.release()
	}
	if g.chance(0.06) {
		pos := g.r.IntN(len(s) + 1)
		switch g.r.IntN(8) {
		case 0:
			s = s[:pos] + g.pick(" ", "\t", "é", "\xff", "!", "#", "%", "*") + s[pos:]
		case 1:
			s = g.pick("-", ":", "-1", "a:", "1a:", " 1:") + s
		case 2:
			s += g.pick("-", ":", "-~", "-^", "-a-b")
		case 3:
			s = s[:pos] + g.pick("-", ":") + s[pos:]
		case 4:
			s = g.pick("~", "^", ".", "a") + s
		case 5:
			s = ""
		case 6:
			s = g.epoch() + ":"
		default:
			s = s[:pos] + g.pick("~", "^") + s[pos:]
		}
	}
	return s
}

// similar returns an EVR close to s, producing many equal or nearly equal pairs.
func (g evrGen) similar(s string) string {
	for range 1 + g.r.IntN(2) {
		pos := g.r.IntN(len(s) + 1)
		switch g.r.IntN(14) {
		case 0:
			s = s[:pos] + "0" + s[pos:]
		case 1:
			s += g.pick("~", "^", "~1", "^1", "a", ".", ".0", "0", "_")
		case 2:
			s = "0:" + s
		case 3:
			if i := strings.LastIndexByte(s, '-'); i >= 0 {
				s = s[:i]
			} else {
				s += "-" + g.release()
			}
		case 4:
			s = s[:pos] + g.pick("~", "^") + s[pos:]
		case 5:
			if pos < len(s) && isDigit(s[pos]) {
				s = s[:pos] + string(rune('0'+(s[pos]-'0'+1)%10)) + s[pos+1:]
			}
		case 6:
			s = strings.Replace(s, ".", g.pick("_", "+", "", "..", ".0.", "a."), 1)
		case 7:
			if pos < len(s) {
				s = s[:pos] + s[pos+1:]
			}
		case 8:
			s = strings.ToUpper(s[:pos]) + s[pos:]
		case 9:
			s = "1:" + s
		case 10:
			s = ":" + s
		case 11:
			s = strings.Replace(s, "0", "00", 1)
		case 12:
			s = s[:pos] + "." + s[pos:]
		default:
			// unchanged
		}
	}
	return s
}

// pair returns two EVRs; more than half are near-copies.
func (g evrGen) pair() (string, string) {
	a := g.evr()
	if g.chance(0.55) {
		return a, g.similar(a)
	}
	return a, g.evr()
}
