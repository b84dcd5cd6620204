package dpkgver

import (
	"fmt"
	"strings"
)

// maxEpoch is the largest epoch dpkg accepts (INT_MAX).
const maxEpoch = "2147483647"

// SyntaxError describes a version dpkg objects to.
type SyntaxError struct {
	// Version is the offending version as given.
	Version string
	// Reason says what is wrong, in dpkg's terms.
	Reason string
	// Fatal is true when dpkg refuses the version outright (`dpkg --compare-versions` exits
	// 2); false when dpkg only warns and still compares it (for example an upstream version
	// that starts with a letter).
	Fatal bool
}

// Error implements error.
func (e *SyntaxError) Error() string {
	kind := "invalid"
	if !e.Fatal {
		kind = "bad syntax (dpkg warns)"
	}
	return fmt.Sprintf("version %q: %s: %s", e.Version, kind, e.Reason)
}

// Valid returns nil when dpkg accepts v without complaint, and otherwise a *SyntaxError
// naming the first problem dpkg reports, in dpkg's order:
//   - fatal: empty string, embedded spaces or tabs, an epoch that is empty, not a number,
//     negative or above 2147483647, nothing after the epoch colon, an empty revision after a
//     trailing hyphen, an empty upstream version;
//   - warning: an upstream version not starting with a digit, a character other than
//     [A-Za-z0-9.+~:-] in the upstream version, or other than [A-Za-z0-9.+~] in the revision.
//
// Like dpkg, Valid ignores leading and trailing spaces and tabs, and reads the epoch as
// strtol(3) does, so "+1:2" and "-0:2" are accepted. Note that `dpkg --compare-versions`
// itself treats an empty argument as "no version" instead of rejecting it.
func Valid(v string) error {
	fail := func(fatal bool, format string, args ...any) error {
		return &SyntaxError{Version: v, Reason: fmt.Sprintf(format, args...), Fatal: fatal}
	}
	s := strings.TrimLeft(v, " \t")
	if s == "" {
		return fail(true, "version string is empty")
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		if strings.Trim(s[i:], " \t") != "" {
			return fail(true, "version string has embedded spaces")
		}
		s = s[:i]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if reason := epochProblem(s[:i]); reason != "" {
			return fail(true, "%s", reason)
		}
		s = s[i+1:]
		if s == "" {
			return fail(true, "nothing after colon in version number")
		}
	}
	upstream, revision, hasRevision := s, "", false
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		upstream, revision, hasRevision = s[:i], s[i+1:], true
	}
	switch {
	case hasRevision && revision == "":
		return fail(true, "revision number is empty")
	case upstream == "":
		return fail(true, "version number is empty")
	case !isDigit(upstream[0]):
		return fail(false, "version number does not start with digit")
	}
	for i := 0; i < len(upstream); i++ {
		if c := upstream[i]; !isDigit(c) && !isLetter(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return fail(false, "invalid character %q in version number", c)
		}
	}
	for i := 0; i < len(revision); i++ {
		if c := revision[i]; !isDigit(c) && !isLetter(c) && !strings.ContainsRune(".+~", rune(c)) {
			return fail(false, "invalid character %q in revision number", c)
		}
	}
	return nil
}

// epochProblem returns why dpkg would refuse e as an epoch, or "" when it is fine. dpkg uses
// strtol: it skips white space and a sign, and complains about "empty" when no digit follows.
func epochProblem(e string) string {
	rest := strings.TrimLeft(e, " \t\n\v\f\r")
	neg := false
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	n := 0
	for n < len(rest) && isDigit(rest[n]) {
		n++
	}
	digits := strings.TrimLeft(rest[:n], "0")
	switch {
	case n == 0:
		return "epoch in version is empty"
	case n != len(rest):
		return "epoch in version is not number"
	case neg && digits != "":
		return "epoch in version is negative"
	case compareDigits(digits, maxEpoch) > 0:
		return "epoch in version is too big"
	}
	return ""
}
