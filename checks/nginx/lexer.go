package nginx

import (
	"fmt"
	"strings"

	"github.com/securecodehq/server-audit/checks"
)

// stmtKind says how a statement read by the lexer ended.
type stmtKind int

const (
	// stmtDirective is a simple directive ended by ";".
	stmtDirective stmtKind = iota
	// stmtBlock is a directive followed by "{".
	stmtBlock
	// stmtEnd is a "}" closing the current block.
	stmtEnd
	// stmtEOF is the end of the input.
	stmtEOF
)

// statement is one directive (its words) as the lexer read it.
type statement struct {
	kind stmtKind
	args []string
	// line is where the directive's first word starts.
	line int
}

// lexer splits nginx configuration text into statements with the rules of nginx's own
// tokenizer (ngx_conf_read_token): words are separated by blanks, ";" ends a directive,
// "{" opens a block and "}" closes one (only at the start of a word); "#" starts a comment
// only at the start of a word; double and single quotes group blanks into a word and must be
// followed by a blank, ";", "{" or ")"; a backslash protects the next character and \t, \r,
// \n, \", \' and \\ are unescaped; "${" does not open a block.
type lexer struct {
	data []byte
	pos  int
	line int
	// name is the file name used in error messages.
	name string
}

func newLexer(name string, data []byte) *lexer {
	return &lexer{data: data, line: 1, name: name}
}

func isBlank(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' }

// errorf returns a parse error naming the file and the current line.
func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("%s line %d: %s: %w", l.name, l.line, fmt.Sprintf(format, args...), checks.ErrParse)
}

// next reads the next statement.
func (l *lexer) next() (statement, error) {
	var (
		args                      []string
		needSpace, quoted         bool
		comment, variable         bool
		sQuoted, dQuoted          bool
		lastSpace                 = true
		start, firstLine, started = l.pos, l.line, false
	)
	for {
		if l.pos >= len(l.data) {
			if len(args) > 0 || !lastSpace {
				return statement{}, l.errorf(`unexpected end of file, expecting ";" or "}"`)
			}
			return statement{kind: stmtEOF, line: l.line}, nil
		}
		ch := l.data[l.pos]
		l.pos++
		if ch == '\n' {
			l.line++
			comment = false
		}
		if comment {
			continue
		}
		if quoted {
			quoted = false
			continue
		}
		if needSpace {
			switch {
			case isBlank(ch):
				lastSpace, needSpace = true, false
				continue
			case ch == ';':
				return statement{kind: stmtDirective, args: args, line: firstLine}, nil
			case ch == '{':
				return statement{kind: stmtBlock, args: args, line: firstLine}, nil
			case ch == ')':
				lastSpace, needSpace = true, false
			default:
				return statement{}, l.errorf("unexpected %q", ch)
			}
		}
		if lastSpace {
			start = l.pos - 1
			if isBlank(ch) {
				continue
			}
			if !started && ch != '#' && ch != ';' && ch != '{' && ch != '}' {
				started, firstLine = true, l.line
			}
			switch ch {
			case ';', '{':
				if len(args) == 0 {
					return statement{}, l.errorf("unexpected %q", ch)
				}
				if ch == '{' {
					return statement{kind: stmtBlock, args: args, line: firstLine}, nil
				}
				return statement{kind: stmtDirective, args: args, line: firstLine}, nil
			case '}':
				if len(args) != 0 {
					return statement{}, l.errorf(`unexpected "}"`)
				}
				return statement{kind: stmtEnd, line: l.line}, nil
			case '#':
				comment = true
				continue
			case '\\':
				quoted, lastSpace = true, false
				continue
			case '"':
				start++
				dQuoted, lastSpace = true, false
				continue
			case '\'':
				start++
				sQuoted, lastSpace = true, false
				continue
			case '$':
				variable, lastSpace = true, false
				continue
			default:
				lastSpace = false
			}
			continue
		}
		if ch == '{' && variable {
			continue
		}
		variable = false
		if ch == '\\' {
			quoted = true
			continue
		}
		if ch == '$' {
			variable = true
			continue
		}
		found := false
		switch {
		case dQuoted:
			if ch == '"' {
				dQuoted, needSpace, found = false, true, true
			}
		case sQuoted:
			if ch == '\'' {
				sQuoted, needSpace, found = false, true, true
			}
		case isBlank(ch) || ch == ';' || ch == '{':
			lastSpace, found = true, true
		}
		if !found {
			continue
		}
		args = append(args, unescape(l.data[start:l.pos-1]))
		switch ch {
		case ';':
			return statement{kind: stmtDirective, args: args, line: firstLine}, nil
		case '{':
			return statement{kind: stmtBlock, args: args, line: firstLine}, nil
		}
	}
}

// unescape applies nginx's word unescaping: \" \' \\ lose the backslash, \t \r \n become
// control characters, any other backslash stays.
func unescape(raw []byte) string {
	if !strings.ContainsRune(string(raw), '\\') {
		return string(raw)
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			switch raw[i+1] {
			case '"', '\'', '\\':
				i++
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// rawLuaBlock reads the body of a *_by_lua_block directive, whose content is Lua code and
// follows Lua's rules rather than nginx's (the lua-nginx-module has its own reader): it
// returns the text up to the matching "}", skipping braces inside Lua strings, long
// brackets and comments.
func (l *lexer) rawLuaBlock() (string, error) {
	start, depth := l.pos, 1
	for l.pos < len(l.data) {
		ch := l.data[l.pos]
		switch {
		case ch == '\n':
			l.line++
			l.pos++
		case ch == '{':
			depth++
			l.pos++
		case ch == '}':
			depth--
			l.pos++
			if depth == 0 {
				return string(l.data[start : l.pos-1]), nil
			}
		case ch == '-' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '-':
			l.pos += 2
			if level, ok := l.longBracket(); ok {
				if err := l.skipLong(level); err != nil {
					return "", err
				}
				continue
			}
			for l.pos < len(l.data) && l.data[l.pos] != '\n' {
				l.pos++
			}
		case ch == '[':
			if level, ok := l.longBracket(); ok {
				if err := l.skipLong(level); err != nil {
					return "", err
				}
				continue
			}
			l.pos++
		case ch == '"' || ch == '\'':
			l.pos++
			for {
				if l.pos >= len(l.data) {
					return "", l.errorf("unterminated Lua string")
				}
				c := l.data[l.pos]
				l.pos++
				if c == '\\' && l.pos < len(l.data) {
					if l.data[l.pos] == '\n' {
						l.line++
					}
					l.pos++
					continue
				}
				if c == '\n' {
					l.line++
				}
				if c == ch {
					break
				}
			}
		default:
			l.pos++
		}
	}
	return "", l.errorf("unexpected end of file in Lua block, expecting \"}\"")
}

// longBracket reports whether a Lua long bracket "[==[" starts at the current position,
// and consumes it.
func (l *lexer) longBracket() (int, bool) {
	if l.pos >= len(l.data) || l.data[l.pos] != '[' {
		return 0, false
	}
	i, level := l.pos+1, 0
	for i < len(l.data) && l.data[i] == '=' {
		level++
		i++
	}
	if i < len(l.data) && l.data[i] == '[' {
		l.pos = i + 1
		return level, true
	}
	return 0, false
}

// skipLong skips to the end of a long string or comment of the given level.
func (l *lexer) skipLong(level int) error {
	closing := "]" + strings.Repeat("=", level) + "]"
	rest := string(l.data[l.pos:])
	i := strings.Index(rest, closing)
	if i < 0 {
		return l.errorf("unterminated Lua long bracket")
	}
	l.line += strings.Count(rest[:i], "\n")
	l.pos += i + len(closing)
	return nil
}
