package dpkgver

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// versionGen produces realistic and nasty Debian versions from a seeded RNG: epochs (some
// signed, huge or empty), tildes, revisions with dots and pluses, letters of both cases,
// leading zeros, 40-digit numbers, hyphens and colons inside the upstream version, and now
// and then something dpkg warns about or refuses.
type versionGen struct{ r *rand.Rand }

func newVersionGen(seed uint64) versionGen {
	return versionGen{rand.New(rand.NewPCG(seed, 0x646b7067))}
}

func (g versionGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g versionGen) chance(p float64) bool { return g.r.Float64() < p }

// number is a digit run: mostly small, sometimes zero-padded, a date or very long.
func (g versionGen) number() string {
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

// word is a letter run as found in versions.
func (g versionGen) word() string {
	return g.pick("a", "b", "c", "z", "A", "Z", "rc", "beta", "alpha", "pre", "dfsg", "ds",
		"git", "svn", "really", "ubuntu", "deb", "bpo", "build", "nmu", "p", "post", "ab", "aB")
}

// upstream builds an upstream version; hyphens and colons are allowed only when the caller
// says a revision / an epoch will follow, as in real versions.
func (g versionGen) upstream(hyphenOK, colonOK bool) string {
	var b strings.Builder
	if g.chance(0.03) {
		b.WriteString(g.word()) // dpkg warns: does not start with a digit
	}
	b.WriteString(g.number())
	for range g.r.IntN(5) {
		seps := []string{".", ".", ".", "+", "~", "~~", ""}
		if hyphenOK {
			seps = append(seps, "-")
		}
		if colonOK {
			seps = append(seps, ":")
		}
		b.WriteString(g.pick(seps...))
		switch g.r.IntN(4) {
		case 0:
			b.WriteString(g.word())
		case 1:
			b.WriteString(g.word() + g.number())
		default:
			b.WriteString(g.number())
		}
	}
	if g.chance(0.1) {
		b.WriteString(g.pick("~", "~rc1", "~beta2", "+dfsg", "+ds1", "+really1.0", ".", "+", "a"))
	}
	return b.String()
}

// revision builds a Debian revision.
func (g versionGen) revision() string {
	if g.chance(0.5) {
		return g.pick("0", "1", "2", "10", "1ubuntu1", "1+deb12u1", "1+deb12u10", "1~bpo11+1",
			"0.1", "2.1+b1", "1build1", "3~", "1~deb12u1", "01", "1.", "0ubuntu0.22.04.1", "~")
	}
	var b strings.Builder
	b.WriteString(g.number())
	for range g.r.IntN(4) {
		b.WriteString(g.pick(".", "+", "~", ""))
		if g.chance(0.4) {
			b.WriteString(g.word())
		}
		b.WriteString(g.number())
	}
	return b.String()
}

// epoch returns an epoch without its colon.
func (g versionGen) epoch() string {
	return g.pick("0", "1", "1", "2", "3", "10", "01", "00", "7", "2147483647", "123")
}

// version returns one version; about 6% of them are broken in a way dpkg notices.
func (g versionGen) version() string {
	hasEpoch, hasRev := g.chance(0.3), g.chance(0.6)
	v := g.upstream(hasRev, hasEpoch)
	if hasEpoch {
		v = g.epoch() + ":" + v
	}
	if hasRev {
		v += "-" + g.revision()
	}
	if g.chance(0.06) {
		v = g.breakVersion(v)
	}
	return v
}

// breakVersion damages v in one of the ways dpkg warns about or rejects (or, for blanks and
// signed epochs, quietly accepts).
func (g versionGen) breakVersion(v string) string {
	pos := g.r.IntN(len(v) + 1)
	switch g.r.IntN(14) {
	case 0:
		return v[:pos] + g.pick("_", "!", "#", "/", "=", "\x80", "\xff", "\n", "\r", "\v") + v[pos:]
	case 1:
		return v[:pos] + " " + v[pos:]
	case 2:
		return g.pick(" ", "\t", "  ") + v + g.pick("", " ", "\t")
	case 3:
		return v + "-"
	case 4:
		return ":" + v
	case 5:
		return g.pick("a", "-1", "+", "1a", "99999999999999999999", "2147483648", "\n2", "+1", "-0", "-00") + ":" + v
	case 6:
		return g.epoch() + ":"
	case 7:
		return "-" + v
	case 8:
		return g.pick("~", "a", "A", ".", "+") + v
	case 9:
		return g.epoch() + ":-" + g.revision()
	case 10:
		return v + "-" + g.pick("a_b", "1:2", "1-", "x y")
	case 11:
		return ""
	case 12:
		return v[:pos] + "~" + v[pos:]
	default:
		return v[:pos] + ":" + v[pos:]
	}
}

// similar returns a version close to v: same text with zeros, tildes, epochs, revisions or
// digits nudged, which produces many equal or nearly equal pairs.
func (g versionGen) similar(v string) string {
	for range 1 + g.r.IntN(2) {
		pos := g.r.IntN(len(v) + 1)
		switch g.r.IntN(13) {
		case 0:
			v = v[:pos] + "0" + v[pos:]
		case 1:
			v += g.pick("~", "~~", "~1", "a", "+", ".", ".0", "0")
		case 2:
			v = "0:" + v
		case 3:
			v += "-0"
		case 4:
			v = v[:pos] + "~" + v[pos:]
		case 5:
			if pos < len(v) && isDigit(v[pos]) {
				v = v[:pos] + string(rune('0'+(v[pos]-'0'+1)%10)) + v[pos+1:]
			}
		case 6:
			v = strings.Replace(v, ".", g.pick("+", "~", "", ".0.", "a."), 1)
		case 7:
			if pos < len(v) {
				v = v[:pos] + v[pos+1:]
			}
		case 8:
			v = strings.ToUpper(v[:pos]) + v[pos:]
		case 9:
			v = "1:" + v
		case 10:
			v += "-" + g.revision()
		case 11:
			v = strings.Replace(v, "0", "00", 1)
		default:
			// unchanged: equal strings
		}
	}
	return v
}

// pair returns two versions; more than half are near-copies of each other.
func (g versionGen) pair() (string, string) {
	a := g.version()
	if g.chance(0.55) {
		return a, g.similar(a)
	}
	return a, g.version()
}
