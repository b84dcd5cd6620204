package ssh

import (
	"errors"
	"strings"
)

// The tokenisers below reproduce OpenSSH's misc.c: strdelim splits the keyword off a line
// (and the criteria of a Match line), argvSplit splits the arguments. They differ on
// purpose, as in sshd: strdelim knows double quotes and one "=" after the first token,
// argvSplit knows single and double quotes, backslash escapes and "#" comments.

// whitespace is OpenSSH's WHITESPACE set.
const whitespace = " \t\r\n"

// strdelim returns the next token of *s and advances *s past it and the whitespace (and at
// most one "=") that follows. It returns ok=false when a quoted token has no closing quote.
// When nothing follows the token, *s becomes nil.
func strdelim(s **string) (tok string, ok bool) {
	if *s == nil {
		return "", false
	}
	str := **s
	i := strings.IndexAny(str, whitespace+`"=`)
	if i < 0 {
		*s = nil
		return str, true
	}
	if str[i] == '"' {
		rest := str[:i] + str[i+1:]
		j := strings.IndexByte(rest[i:], '"')
		if j < 0 {
			*s = nil
			return "", false
		}
		j += i
		tok = rest[:j]
		after := rest[j+1:]
		after = strings.TrimLeft(after, whitespace)
		*s = &after
		return tok, true
	}
	tok = str[:i]
	equals := str[i] == '='
	after := strings.TrimLeft(str[i+1:], whitespace)
	if !equals && strings.HasPrefix(after, "=") {
		after = strings.TrimLeft(after[1:], whitespace)
	}
	*s = &after
	return tok, true
}

// errQuotes is argvSplit's error for an unterminated quote.
var errQuotes = errors.New("invalid quotes")

// argvSplit splits the arguments of a configuration line as sshd does: tokens separated by
// spaces or tabs, single or double quotes group (and may start mid-token), a backslash
// escapes a quote, a backslash or (outside quotes) a space, and an unquoted "#" at the start
// of a token ends the line.
func argvSplit(s string) ([]string, error) {
	var args []string
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			continue
		}
		if s[i] == '#' {
			break
		}
		var arg strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 < len(s) {
					n := s[i+1]
					if n == '\'' || n == '"' || n == '\\' || (quote == 0 && n == ' ') {
						i++
						arg.WriteByte(n)
						continue
					}
				}
				arg.WriteByte(c)
				continue
			case quote == 0 && (c == ' ' || c == '\t'):
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
				continue
			case quote != 0 && c == quote:
				quote = 0
				continue
			default:
				arg.WriteByte(c)
				continue
			}
			break
		}
		args = append(args, arg.String())
		if i >= len(s) {
			if quote != 0 {
				return nil, errQuotes
			}
			break
		}
	}
	return args, nil
}
