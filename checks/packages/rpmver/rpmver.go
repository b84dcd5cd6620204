// Package rpmver orders RPM versions as rpm does (rpmvercmp on epoch, version and release).
//
// An EVR is "[epoch:]version[-release]". The epoch is the run of leading digits when a colon
// follows it (an empty one, as in ":1.0", is 0); the release is whatever follows the last
// hyphen. Compare orders two EVRs the way rpm 4.18 compares parsed versions (rpmverCmp, used by
// the Lua rpm.vercmp and rpm.ver): epochs first (missing = 0), then versions, then releases,
// each with VerCmp. A missing release sorts before any release, even an empty or "~" one:
// "1.0" < "1.0-~" < "1.0-" < "1.0-0".
//
// rpm's dependency matching (rpmdsCompare) is laxer: when one side has no release it ignores
// releases altogether, so a requirement "foo >= 1.0" is met by 1.0-1. For the packages
// family both rules agree on "installed >= fixed" as long as the installed version carries a
// release, which every installed rpm does.
package rpmver

import (
	"errors"
	"strings"
)

// EVR is a parsed RPM version.
type EVR struct {
	// Epoch is the epoch digits, "" when the EVR has none (it then compares as "0"). An empty
	// epoch before a colon is recorded as "0".
	Epoch string
	// Version is the version proper.
	Version string
	// Release is the text after the last hyphen; see HasRelease.
	Release string
	// HasRelease distinguishes "1.0-" (empty release) from "1.0" (no release).
	HasRelease bool
}

// ErrEmpty is returned by Parse for the empty string, which rpm refuses as a version.
var ErrEmpty = errors.New("empty rpm version")

// Parse splits an EVR. Every non-empty string is an EVR to rpm; only "" is refused.
func Parse(s string) (EVR, error) {
	if s == "" {
		return EVR{}, ErrEmpty
	}
	return split(s), nil
}

// split divides s into epoch, version and release the way rpm does.
func split(s string) EVR {
	var e EVR
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n < len(s) && s[n] == ':' {
		e.Epoch = s[:n]
		if e.Epoch == "" {
			e.Epoch = "0"
		}
		s = s[n+1:]
	}
	e.Version = s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		e.Version, e.Release, e.HasRelease = s[:i], s[i+1:], true
	}
	return e
}

// String reassembles the EVR.
func (e EVR) String() string {
	s := e.Version
	if e.Epoch != "" {
		s = e.Epoch + ":" + s
	}
	if e.HasRelease {
		s += "-" + e.Release
	}
	return s
}

// Compare returns -1, 0 or +1 as the EVR "[epoch:]version[-release]" a is lower than, equal
// to or higher than b, as rpm orders them. The empty string, which rpm refuses, is ordered as
// an empty version with no epoch and no release.
func Compare(a, b string) int { return split(a).Compare(split(b)) }

// Compare orders e against o: epoch (missing = 0), version, then release, where only one side
// having a release makes that side higher.
func (e EVR) Compare(o EVR) int {
	if c := VerCmp(orZero(e.Epoch), orZero(o.Epoch)); c != 0 {
		return c
	}
	if c := VerCmp(e.Version, o.Version); c != 0 {
		return c
	}
	switch {
	case e.HasRelease && o.HasRelease:
		return VerCmp(e.Release, o.Release)
	case e.HasRelease:
		return 1
	case o.HasRelease:
		return -1
	}
	return 0
}

func orZero(epoch string) string {
	if epoch == "" {
		return "0"
	}
	return epoch
}
