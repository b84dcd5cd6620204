package reportgen

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/pkg/textsafe"
)

// clean makes one value from the payload safe to show on one line: invalid UTF-8 becomes
// U+FFFD, and control characters (tab and newline included), bidirectional-formatting
// characters, line and paragraph separators and the non-characters U+FFFE/U+FFFF become
// visible escapes such as \x1b or \u202e, so that a value can neither break a line nor
// reorder the text around it.
func clean(s string) string { return textsafe.Escape(s, hidden) }

// hidden reports whether clean escapes c.
func hidden(c rune) bool {
	switch {
	case textsafe.Control(c):
		return true
	case c == 0x061c || c == 0x200e || c == 0x200f:
		return true
	case c >= 0x202a && c <= 0x202e, c >= 0x2066 && c <= 0x2069:
		return true
	}
	return c == 0x2028 || c == 0x2029 || c == 0xfeff
}

// fact is a fact in display form: its key and its value, or its items for a list.
type fact struct {
	Key   string
	Items []string
	List  bool
	// Line is "key: value" or "key: item, item", with "(empty)" for an empty string and
	// "(empty list)" for a list without items: one escaped print per fact in HTML.
	Line string
}

// factsOf returns facts in display form, ordered by key.
func factsOf(facts map[string]any) []fact {
	if len(facts) == 0 {
		return nil
	}
	out := make([]fact, 0, len(facts))
	for _, k := range sortedKeys(facts) {
		items, list := factValue(facts[k])
		f := fact{Key: clean(k), Items: items, List: list}
		f.Line = f.Key + ": " + factText(f)
		out = append(out, f)
	}
	return out
}

// factText is the value of a fact as one line of text.
func factText(f fact) string {
	switch {
	case f.List && len(f.Items) == 0:
		return "(empty list)"
	case !f.List && f.Items[0] == "":
		return "(empty)"
	}
	return strings.Join(f.Items, ", ")
}

// factsKey renders facts as one string, to order results that are otherwise equal.
func factsKey(facts []fact) string {
	if len(facts) == 0 {
		return ""
	}
	var b strings.Builder
	for _, f := range facts {
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(strings.Join(f.Items, "\x00"))
		b.WriteByte('\n')
	}
	return b.String()
}

// factValue formats a fact value: a scalar as one item, a list (any slice or array) as one
// item per element. Stored facts are bool, integers, strings and lists of integers or strings;
// anything else (floats and json.Number from a JSON decoder, nested values) is formatted
// deterministically all the same.
func factValue(v any) (items []string, list bool) {
	if v != nil {
		rv := reflect.ValueOf(v)
		if k := rv.Kind(); k == reflect.Slice || k == reflect.Array {
			items = make([]string, 0, rv.Len())
			for i := range rv.Len() {
				items = append(items, scalar(rv.Index(i).Interface()))
			}
			return items, true
		}
	}
	return []string{scalar(v)}, false
}

// scalar formats one value for display and cleans it.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return clean(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return clean(x.String())
	case fmt.Stringer:
		return clean(x.String())
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64)
	case reflect.String:
		return clean(rv.String())
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool())
	}
	// Nested values: encoding/json sorts map keys, so this is deterministic.
	data, err := json.Marshal(v)
	if err != nil {
		return clean(fmt.Sprintf("(%T)", v))
	}
	return clean(string(data))
}

// seg is a piece of a line of text. Its kind says where it comes from and so how it is
// escaped: trusted prose (the report's own words, catalog text outside code spans), a
// `code span` of catalog text (Code), or a cleaned value from the payload (Value), which is
// hostile. The kinds are fields rather than methods because the HTML template reads them
// for every piece of text, and a field read is much cheaper there than a method call.
type seg struct {
	Text  string
	Code  bool
	Value bool
}

// text returns a trusted prose segment.
func text(s string) seg { return seg{Text: s} }

// value returns a payload value segment, cleaned.
func value(s string) seg { return seg{Text: clean(s), Value: true} }

// block is a block of catalog text: a paragraph of lines, or a code block.
type block struct {
	// Code is true for a code block: lines indented by four spaces in the catalog.
	Code bool
	// Lines are the paragraph's lines; each is a sequence of prose and code spans.
	Lines [][]seg
	// Segs are Lines joined by newlines, adjacent prose merged: fewer pieces for the HTML
	// template to walk.
	Segs []seg
	// CodeLines are the code block's lines without the indentation.
	CodeLines []string
	// CodeText is CodeLines joined by newlines, for the HTML template.
	CodeText string
}

// catalogLines splits catalog text into cleaned lines: CRLF is a newline, tabs become four
// spaces, trailing blank lines are dropped.
func catalogLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\t", "    ")
	s = strings.TrimRight(s, "\n ")
	if s == "" {
		return nil
	}
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = clean(strings.TrimRight(l, " "))
	}
	return ls
}

// parseBlocks splits catalog text into paragraphs and code blocks. A code block starts with
// a line indented by four spaces after a blank line (or at the start) and runs over indented
// and blank lines up to the next line that is neither; blank lines separate paragraphs.
func parseBlocks(s string) []block {
	ls := catalogLines(s)
	var out []block
	var para [][]seg
	flush := func() {
		if len(para) > 0 {
			out = append(out, block{Lines: para, Segs: joinLines(para)})
			para = nil
		}
	}
	for i := 0; i < len(ls); i++ {
		l := ls[i]
		if l == "" {
			flush()
			continue
		}
		if strings.HasPrefix(l, "    ") && len(para) == 0 {
			var code []string
			for i < len(ls) {
				if strings.HasPrefix(ls[i], "    ") {
					code = append(code, ls[i][4:])
					i++
					continue
				}
				j := i
				for j < len(ls) && ls[j] == "" {
					j++
				}
				if j > i && j < len(ls) && strings.HasPrefix(ls[j], "    ") {
					for ; i < j; i++ {
						code = append(code, "")
					}
					continue
				}
				break
			}
			i--
			out = append(out, block{Code: true, CodeLines: code, CodeText: strings.Join(code, "\n")})
			continue
		}
		para = append(para, parseSpans(strings.TrimLeft(l, " ")))
	}
	flush()
	return out
}

// joinLines joins the lines of a paragraph with newlines into one sequence of segments,
// merging adjacent prose.
func joinLines(lines [][]seg) []seg {
	var out []seg
	add := func(s seg) {
		if n := len(out); n > 0 && !s.Code && !s.Value && !out[n-1].Code && !out[n-1].Value {
			out[n-1].Text += s.Text
			return
		}
		out = append(out, s)
	}
	for i, l := range lines {
		if i > 0 {
			add(text("\n"))
		}
		for _, s := range l {
			add(s)
		}
	}
	return out
}

// parseLine parses one-line catalog text (a title) into prose and code spans; newlines
// become spaces.
func parseLine(s string) []seg {
	return parseSpans(strings.Join(catalogLines(s), " "))
}

// parseSpans splits a line of catalog text into prose and `code spans`. A run of backticks
// without a closing run of the same length is prose.
func parseSpans(l string) []seg {
	var out []seg
	var prose strings.Builder
	for l != "" {
		start := strings.IndexByte(l, '`')
		if start < 0 {
			prose.WriteString(l)
			break
		}
		prose.WriteString(l[:start])
		n := start
		for n < len(l) && l[n] == '`' {
			n++
		}
		fence := n - start
		end := textsafe.ClosingFence(l[n:], fence)
		if end < 0 {
			prose.WriteString(l[start:n])
			l = l[n:]
			continue
		}
		if prose.Len() > 0 {
			out = append(out, text(prose.String()))
			prose.Reset()
		}
		code := l[n : n+end]
		if len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.Trim(code, " ") != "" {
			code = code[1 : len(code)-1]
		}
		out = append(out, seg{Text: code, Code: true})
		l = l[n+end+fence:]
	}
	if prose.Len() > 0 {
		out = append(out, text(prose.String()))
	}
	return out
}
