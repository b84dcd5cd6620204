package vulndata

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// nginxConf is what the conditions need from nginx's configuration: which directives are
// used and whether a listener speaks HTTP/2. It is a minimal reading of nginx.conf and the
// files it includes (the nginx family owns the full parser; none of it is exported), enough
// to tell whether a directive appears in a statement position.
type nginxConf struct {
	directives map[string]string // directive name → "file:line" of its first use
	http2      string            // where HTTP/2 is enabled ("" when nowhere)
	err        error
	missing    bool
}

// nginxMain is the main configuration file distributions install.
const nginxMain = "/etc/nginx/nginx.conf"

func readNginxConf(fsys host.FS) *nginxConf {
	c := &nginxConf{directives: map[string]string{}}
	files := 0
	var read func(name string, depth int) error
	read = func(name string, depth int) error {
		if depth > 8 || files >= maxIncludes {
			return nil
		}
		files++
		data, err := host.ReadFileLimit(fsys, name, 4<<20)
		if err != nil {
			return err
		}
		for _, st := range nginxStatements(string(data)) {
			where := fmt.Sprintf("%s:%d", name, st.line)
			if _, ok := c.directives[st.name]; !ok {
				c.directives[st.name] = where
			}
			switch st.name {
			case "include":
				for _, pat := range st.args {
					if !path.IsAbs(pat) {
						pat = path.Join("/etc/nginx", pat)
					}
					names, _ := host.Glob(fsys, pat)
					for _, n := range names {
						if err := read(n, depth+1); err != nil && !errors.Is(err, fs.ErrNotExist) {
							return err
						}
					}
				}
			case "listen":
				for _, a := range st.args[min(1, len(st.args)):] {
					if a == "http2" && c.http2 == "" {
						c.http2 = where
					}
				}
			case "http2":
				if len(st.args) > 0 && st.args[0] == "on" && c.http2 == "" {
					c.http2 = where
				}
			}
		}
		return nil
	}
	if err := read(nginxMain, 0); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.missing = true
		} else {
			c.err = err
		}
	}
	return c
}

func (c *nginxConf) exposed(cond Condition) (bool, string, error) {
	if c.err != nil {
		return true, "", c.err
	}
	if c.missing {
		return true, nginxMain + " does not exist; nginx's configuration is unknown", nil
	}
	if cond.Kind == CondNginxHTTP2 {
		if c.http2 != "" {
			return true, "HTTP/2 is enabled at " + c.http2, nil
		}
		return false, "no listener enables HTTP/2", nil
	}
	if where, ok := c.directives[cond.Arg]; ok {
		return true, "the " + cond.Arg + " directive is used at " + where, nil
	}
	return false, "the " + cond.Arg + " directive is not used", nil
}

// nginxStatement is one directive of a configuration file.
type nginxStatement struct {
	name string
	args []string
	line int
}

// nginxStatements splits nginx configuration text into directives: words separated by
// white space, "#" comments, single and double quotes with backslash escapes, statements
// ended by ";" or opened by "{". Block ends are skipped.
func nginxStatements(text string) []nginxStatement {
	var out []nginxStatement
	var words []string
	var word strings.Builder
	inWord := false
	line, start := 1, 1
	flushWord := func() {
		if inWord {
			if len(words) == 0 {
				start = line
			}
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	flushStmt := func() {
		flushWord()
		if len(words) > 0 && words[0] != "" {
			out = append(out, nginxStatement{name: strings.ToLower(words[0]), args: words[1:], line: start})
		}
		words = nil
	}
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch == '\n':
			flushWord()
			line++
		case ch == ' ' || ch == '\t' || ch == '\r':
			flushWord()
		case ch == '#' && !inWord:
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i--
		case ch == ';' || ch == '{':
			flushStmt()
		case ch == '}':
			flushStmt()
		case ch == '"' || ch == '\'':
			inWord = true
			for i++; i < len(text) && text[i] != ch; i++ {
				if text[i] == '\\' && i+1 < len(text) {
					i++
				}
				if text[i] == '\n' {
					line++
				}
				word.WriteByte(text[i])
			}
		default:
			inWord = true
			word.WriteByte(ch)
		}
	}
	flushStmt()
	return out
}
