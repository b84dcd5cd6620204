package dpkgver

// CompareFragment orders two upstream versions, or two revisions, with dpkg's algorithm
// (deb-version(7)). Both strings are read left to right as alternating runs: a run of
// non-digits, then a run of digits, and so on.
//
// Non-digit runs are compared character by character, the shorter run padded with "end"
// markers. The weights are: "~" lowest, then the end of the run, then ASCII letters in ASCII
// order, then every other character in byte order. So "1.0~rc1" < "1.0" < "1.0a" < "1.0+b1".
//
// Digit runs are compared as numbers of any length; an empty run is zero, so "1.0" == "1.00"
// and "1." == "1.0".
//
// One detail follows dpkg on amd64/i386 rather than the manual: a byte >= 0x80 (never valid
// in a version) weighs its own value, which puts it after the letters but before ASCII
// punctuation, because dpkg reads it as a negative signed char and adds 256.
func CompareFragment(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		// Non-digit run.
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			wa, wb := weightAt(a, i), weightAt(b, j)
			if wa != wb {
				return sign(wa - wb)
			}
			if i < len(a) && !isDigit(a[i]) {
				i++
			}
			if j < len(b) && !isDigit(b[j]) {
				j++
			}
		}
		// Digit run.
		si, sj := i, j
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := compareDigits(a[si:i], b[sj:j]); c != 0 {
			return c
		}
	}
	return 0
}

// weightAt is the sort weight of s[i] inside a non-digit run; the end of the string and a
// digit (which ends the run) both weigh 0.
func weightAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case c == '~':
		return -1
	case isLetter(c):
		return int(c)
	case c >= 0x80:
		return int(c)
	default:
		return int(c) + 256
	}
}
