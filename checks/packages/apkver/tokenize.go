package apkver

import "strings"

// suffixRank looks a suffix name up in sort order; the rank of a suffix is its index
// minus 4, so that the pre-release ones (alpha, beta, pre, rc) are negative.
func suffixRank(name string) (int, bool) {
	for i, s := range [...]string{"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"} {
		if s == name {
			return i - 4, true
		}
	}
	return 0, false
}

// tokenizer splits a version into tokens, following the grammar: what may come next
// depends on the kind of the previous token. After the end or an invalid token it keeps
// returning that token.
type tokenizer struct {
	s       string // input not yet consumed
	last    token
	started bool
}

// next returns the next token.
func (t *tokenizer) next() token {
	if t.started && (t.last.kind == kindEnd || t.last.kind == kindInvalid) {
		return t.last
	}
	tok := t.scan()
	t.last, t.started = tok, true
	return tok
}

// scan reads one token from t.s.
func (t *tokenizer) scan() token {
	s := t.s
	invalid := token{kind: kindInvalid, text: s}
	if !t.started {
		n := run(s, isDigit)
		if n == 0 {
			return invalid
		}
		t.s = s[n:]
		return token{kind: kindNumber, text: strings.TrimLeft(s[:n], "0")}
	}
	if s == "" {
		return token{kind: kindEnd}
	}
	prev := t.last.kind
	switch c := s[0]; {
	case c == '.' && prev == kindNumber:
		n := run(s[1:], isDigit)
		if n == 0 {
			return invalid
		}
		digits := s[1 : 1+n]
		rest := strings.TrimLeft(digits, "0")
		t.s = s[1+n:]
		return token{kind: kindNumber, zeros: len(digits) - len(rest), text: rest}
	case isLower(c) && prev == kindNumber:
		t.s = s[1:]
		return token{kind: kindLetter, text: s[:1]}
	case isDigit(c) && prev == kindSuffix:
		n := run(s, isDigit)
		t.s = s[n:]
		return token{kind: kindSuffixNum, text: s[:n]}
	case c == '_' && prev <= kindSuffixNum:
		n := run(s[1:], isLower)
		rank, ok := suffixRank(s[1 : 1+n])
		if !ok {
			return invalid
		}
		t.s = s[1+n:]
		return token{kind: kindSuffix, suffix: rank}
	case c == '~' && prev <= kindSuffixNum:
		n := run(s[1:], isHex)
		if n == 0 {
			return invalid
		}
		t.s = s[1+n:]
		return token{kind: kindHash, text: s[1 : 1+n]}
	case c == '-' && prev <= kindHash:
		if len(s) < 2 || s[1] != 'r' {
			return invalid
		}
		n := run(s[2:], isDigit)
		if n == 0 {
			return invalid
		}
		t.s = s[2+n:]
		return token{kind: kindRevision, text: s[2 : 2+n]}
	}
	return invalid
}

// run returns the length of the prefix of s whose bytes satisfy class.
func run(s string, class func(byte) bool) int {
	n := 0
	for n < len(s) && class(s[n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func isHex(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'f') }
