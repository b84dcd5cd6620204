package packages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// aptConfState is apt's configuration as the files set it.
type aptConfState struct {
	conf  aptConfig
	files int
	err   error
}

// aptConfig maps lower-cased option names ("apt::periodic::unattended-upgrade") to their
// value and where it was set; later files override earlier ones.
type aptConfig map[string]aptValue

// aptValue is one option's value.
type aptValue struct {
	value, where string
}

// get returns an option's value ("" when unset).
func (c aptConfig) get(key string) (aptValue, bool) {
	v, ok := c[strings.ToLower(key)]
	return v, ok
}

// aptConfPart matches the file names apt reads from apt.conf.d: letters, digits,
// "_", "-" and "." only, as apt's configuration loader requires.
var aptConfPart = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// ignoredAptConfPart reports names apt skips: backup and package-manager leftovers.
func ignoredAptConfPart(name string) bool {
	for _, suf := range []string{".disabled", ".bak", ".dpkg-old", ".dpkg-dist", ".dpkg-new", ".dpkg-tmp", ".ucf-old", ".ucf-dist", ".ucf-new", "~"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return !aptConfPart.MatchString(name)
}

// collectAptConf reads /etc/apt/apt.conf.d/* in name order, then /etc/apt/apt.conf, as apt
// does; a later setting of the same option wins.
func collectAptConf(_ context.Context, h host.Host) (*aptConfState, error) {
	st := &aptConfState{conf: aptConfig{}}
	fsys := h.FS()
	names, err := fsys.ReadDir("/etc/apt/apt.conf.d")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		st.err = err
		return st, nil
	}
	var files []string
	for _, n := range names {
		if !ignoredAptConfPart(n) {
			files = append(files, "/etc/apt/apt.conf.d/"+n)
		}
	}
	files = append(files, "/etc/apt/apt.conf")
	for _, name := range files {
		data, err := host.ReadFileLimit(fsys, name, 1<<20)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, host.ErrNotRegular) {
			continue
		}
		if err != nil {
			st.err = err
			return st, nil
		}
		st.files++
		if err := parseAptConf(name, string(data), st.conf); err != nil {
			st.err = err
			return st, nil
		}
	}
	return st, nil
}

// parseAptConf parses apt.conf(5) syntax into conf: "Name::Sub value;" statements, scopes
// "Name { Sub value; };", quoted values, lists (values without names inside a scope),
// comments ("//", "/* */", and "#" other than #clear and #include), "#clear Name;"
// which removes a tree. #include is not followed (the agent reads known files only); the
// included file is named in the details by the callers that care. Unbalanced braces and
// unterminated strings or comments are malformed.
func parseAptConf(name, data string, conf aptConfig) error {
	toks, err := aptConfTokens(name, data)
	if err != nil {
		return err
	}
	var scope []string
	var words []aptToken
	for _, t := range toks {
		switch t.kind {
		case tokWord, tokString:
			words = append(words, t)
		case tokOpen:
			if len(words) != 1 || words[0].kind != tokWord {
				return fmt.Errorf("parse %s:%d: a scope needs one name: %w", name, t.line, checks.ErrParse)
			}
			scope = append(scope, words[0].text)
			words = nil
		case tokClose:
			if len(scope) == 0 {
				return fmt.Errorf("parse %s:%d: unbalanced '}': %w", name, t.line, checks.ErrParse)
			}
			if len(words) > 0 {
				return fmt.Errorf("parse %s:%d: missing ';' before '}': %w", name, t.line, checks.ErrParse)
			}
			scope = scope[:len(scope)-1]
		case tokSemi:
			if len(words) == 0 {
				continue // "};" ends a scope
			}
			if err := aptStatement(name, t.line, scope, words, conf); err != nil {
				return err
			}
			words = nil
		}
	}
	if len(scope) > 0 || len(words) > 0 {
		return fmt.Errorf("parse %s: unterminated statement or scope at the end: %w", name, checks.ErrParse)
	}
	return nil
}

// aptStatement applies one statement: "name value", "value" (a list item), "#clear name".
func aptStatement(file string, line int, scope []string, words []aptToken, conf aptConfig) error {
	where := fmt.Sprintf("%s:%d", file, line)
	if words[0].kind == tokWord && words[0].text == "#clear" {
		for _, w := range words[1:] {
			prefix := strings.ToLower(strings.Join(append(append([]string{}, scope...), w.text), "::"))
			for k := range conf {
				if k == prefix || strings.HasPrefix(k, prefix+"::") {
					delete(conf, k)
				}
			}
		}
		return nil
	}
	if words[0].kind == tokWord && words[0].text == "#include" {
		return nil
	}
	switch {
	case len(words) == 1 && words[0].kind == tokString:
		// A list item: apt names it by position; only its presence matters here.
		key := strings.ToLower(strings.Join(scope, "::")) + "::"
		conf[key] = aptValue{value: words[0].text, where: where}
	case len(words) == 2 && words[0].kind == tokWord:
		key := strings.ToLower(strings.Join(append(append([]string{}, scope...), words[0].text), "::"))
		conf[key] = aptValue{value: words[1].text, where: where}
	default:
		return fmt.Errorf("parse %s: expected a name and one value: %w", where, checks.ErrParse)
	}
	return nil
}

// aptToken is a token of apt.conf.
type aptToken struct {
	kind aptTokKind
	text string
	line int
}

// aptTokKind is a token kind.
type aptTokKind int

const (
	tokWord aptTokKind = iota
	tokString
	tokOpen
	tokClose
	tokSemi
)

// aptConfTokens splits apt.conf text into tokens.
func aptConfTokens(name, data string) ([]aptToken, error) {
	var out []aptToken
	line := 1
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := strings.Index(data[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("parse %s:%d: unterminated comment: %w", name, line, checks.ErrParse)
			}
			line += strings.Count(data[i:i+2+end], "\n")
			i += end + 3
		case c == '#' && !strings.HasPrefix(data[i:], "#clear") && !strings.HasPrefix(data[i:], "#include"):
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case c == '"':
			end := strings.IndexByte(data[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("parse %s:%d: unterminated string: %w", name, line, checks.ErrParse)
			}
			text := data[i+1 : i+1+end]
			line += strings.Count(text, "\n")
			out = append(out, aptToken{tokString, text, line})
			i += end + 1
		case c == '{':
			out = append(out, aptToken{tokOpen, "{", line})
		case c == '}':
			out = append(out, aptToken{tokClose, "}", line})
		case c == ';':
			out = append(out, aptToken{tokSemi, ";", line})
		default:
			j := i
			for j < len(data) && !strings.ContainsRune(" \t\r\n{};\"", rune(data[j])) {
				if data[j] == '/' && j+1 < len(data) && (data[j+1] == '/' || data[j+1] == '*') {
					break
				}
				j++
			}
			out = append(out, aptToken{tokWord, data[i:j], line})
			i = j - 1
		}
	}
	return out, nil
}
