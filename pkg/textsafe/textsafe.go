// Package textsafe makes untrusted text safe to print: it turns characters that could
// hide, reorder or break the surrounding output into visible escapes. The terminal and
// Markdown formatters of the agent and the server's report renderer share it.
package textsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape returns s with invalid UTF-8 replaced by U+FFFD and every rune for which hidden
// reports true written as a visible escape: \xNN below U+0080, \uNNNN above. It returns s
// itself when nothing needs escaping.
func Escape(s string, hidden func(rune) bool) string {
	clean := true
	for _, c := range s {
		if c == utf8.RuneError || hidden(c) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case c < 0x80 && hidden(c):
			fmt.Fprintf(&b, `\x%02x`, c)
		case hidden(c):
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
		i += size
	}
	return b.String()
}

// Control reports whether c is a C0 or C1 control character or DEL, or one of the
// non-characters U+FFFE and U+FFFF. Tab and newline count as controls.
func Control(c rune) bool {
	return c < 0x20 || c == 0x7f || c >= 0x80 && c <= 0x9f || c == 0xfffe || c == 0xffff
}

// ClosingFence returns the offset in s of the first run of exactly n backticks, or -1: where
// a Markdown code span opened with n backticks ends.
func ClosingFence(s string, n int) int {
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		if j-i == n {
			return i
		}
		i = j
	}
	return -1
}

// CodeSpan returns s as a Markdown code span: fenced with one backtick more than the longest
// run of backticks inside it, and padded with a space on each side when s starts or ends with
// a backtick, or starts and ends with a space (CommonMark strips one such pair).
func CodeSpan(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}
