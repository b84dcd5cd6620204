package reportgen_test

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/reportgen"
)

// hostileStrings returns strings that try to break out of Markdown and HTML.
func hostileStrings() []string {
	return []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`javascript:alert(1)`,
		`[click](javascript:alert(1))`,
		`![x](https://evil.example/x.png)`,
		`<a href="javascript:alert(1)">x</a>`,
		`"'><svg onload=alert(1)>`,
		`| a | b |`,
		"`code` ``x``",
		"x\n# injected heading\n<script>alert(2)</script>",
		"cr\r\n| injected | row |",
		"\x1b[31mred\x1b[0m",
		"\u202egnp.exe",
		`&lt;script&gt;alert(3)&lt;/script&gt;`,
		`<!-- comment`,
		`</style><script>alert(4)</script>`,
		`</title><script>alert(5)</script>`,
		`*bold* _em_ ~~strike~~ $x$ \`,
		`www.evil.example`,
		`{{.AuditID}}`,
		"\xff\xfeinvalid",
	}
}

// hostileAudit puts hostile strings in every string field of an Input.
func hostileAudit() reportgen.Input {
	hostile := hostileStrings()
	h := func(i int) string { return hostile[i%len(hostile)] }
	var results, prevResults []reportgen.Result
	for i, s := range hostile {
		facts := map[string]any{
			s:         s,
			"list":    []string{s, h(i + 1)},
			"anylist": []any{s, float64(i), true},
			"n":       int64(i),
		}
		results = append(results,
			reportgen.Result{CheckID: s, Status: report.StatusFail, Severity: catalog.Severity(h(i + 2)), Reason: report.Reason(h(i + 3)), Facts: facts},
			reportgen.Result{CheckID: s + "-other", Status: report.Status(h(i + 4)), Severity: catalog.SeverityHigh, Reason: report.Reason(h(i + 5)), Facts: facts},
			reportgen.Result{CheckID: s + "-skip", Status: report.StatusSkip, Severity: catalog.SeverityLow, Reason: report.Reason(s)},
		)
		prevResults = append(prevResults,
			reportgen.Result{CheckID: s + "-skip", Status: report.StatusFail, Severity: catalog.Severity(s)},
			reportgen.Result{CheckID: s + "-gone", Status: report.StatusFail, Severity: catalog.SeverityMedium},
		)
	}
	// Known checks whose catalog text has no markup characters, with hostile facts.
	for i, id := range []string{"system.aslr", "ssh.max-auth-tries"} {
		results = append(results, reportgen.Result{CheckID: id, Status: report.StatusFail, Severity: catalog.SeverityHigh,
			Facts: map[string]any{hostile[i]: hostile[i+1], "list": hostile}})
		prevResults = append(prevResults, reportgen.Result{CheckID: id, Status: report.StatusPass, Severity: catalog.SeverityHigh})
	}
	return reportgen.Input{
		AuditID:      hostile[0],
		AgentVersion: hostile[1],
		Score:        42,
		Grade:        hostile[2],
		Host:         reportgen.Host{OS: hostile[3], Arch: hostile[4], Distro: hostile[5], DistroVersion: hostile[6], Kernel: hostile[9], Live: true},
		Results:      results,
		Previous:     &reportgen.Previous{AuditID: hostile[15], Score: 10, Grade: hostile[16], Results: prevResults},
	}
}

func TestEscapingHTML(t *testing.T) {
	// The tags and attributes the report page uses.
	allowedTags := map[string]bool{
		"!DOCTYPE": true, "html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
		"main": true, "h1": true, "h2": true, "h3": true, "h4": true, "p": true, "ul": true, "li": true,
		"strong": true, "em": true, "code": true, "pre": true, "table": true, "thead": true, "tbody": true,
		"tr": true, "th": true, "td": true, "section": true, "span": true, "a": true,
	}
	allowedAttrs := map[string]bool{"lang": true, "charset": true, "name": true, "content": true, "class": true, "id": true, "href": true, "rel": true, "html": true}
	htmlAttr := regexp.MustCompile(`\s+([a-zA-Z-]+)(?:="([^"]*)")?`)
	htmlTag := regexp.MustCompile(`<(/?)([a-zA-Z0-9!]+)([^>]*)>`)
	token := regexp.MustCompile(`^[A-Za-z0-9 .+~:_-]+$`)
	out := build(t, hostileAudit())
	doc := out.HTML
	lower := strings.ToLower(doc)
	for _, bad := range []string{"<script", "<img", "<svg", "<!--", "<a href=\"javascript", "</style><"} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if n := strings.Count(lower, "<style"); n != 1 {
		t.Errorf("HTML has %d <style> elements, want 1", n)
	}
	if n := strings.Count(lower, "<title"); n != 1 {
		t.Errorf("HTML has %d <title> elements, want 1", n)
	}
	// Structure: only the page's own tags and attributes; no URL but the catalog's https
	// references; javascript: never inside a tag (as escaped text it is inert).
	for _, m := range htmlTag.FindAllStringSubmatch(doc, -1) {
		if !allowedTags[m[2]] {
			t.Errorf("unexpected tag %q", m[0])
		}
		if strings.Contains(strings.ToLower(m[3]), "javascript:") {
			t.Errorf("javascript: in tag %q", m[0])
		}
		for _, a := range htmlAttr.FindAllStringSubmatch(m[3], -1) {
			if !allowedAttrs[a[1]] {
				t.Errorf("unexpected attribute %q in %q", a[1], m[0])
			}
			if a[1] == "href" && !strings.HasPrefix(a[2], "https://") {
				t.Errorf("unexpected link %q", a[2])
			}
			if a[1] == "class" || a[1] == "id" {
				if !token.MatchString(a[2]) {
					t.Errorf("%s attribute %q is not a plain token list", a[1], a[2])
				}
			}
		}
	}
	for _, s := range hostileStrings() {
		if strings.ContainsAny(s, `<>&"'`) && strings.Contains(doc, s) {
			t.Errorf("HTML contains the raw hostile string %q", s)
		}
	}
	for _, c := range []string{"\x1b", "\u202e", "\r", "\xff"} {
		if strings.Contains(doc, c) {
			t.Errorf("HTML contains the raw control character %q", c)
		}
	}
	// The escaped text still says what was sent.
	if !strings.Contains(html.UnescapeString(doc), `<img src=x onerror=alert(1)>`) {
		t.Error("hostile value not shown as text")
	}
}

func TestEscapingMarkdown(t *testing.T) {
	out := build(t, hostileAudit())
	doc := out.Markdown
	// Every < and & is backslash-escaped, except the <https://…> destinations of catalog links.
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '<':
			if strings.HasPrefix(doc[i:], "<https://") && strings.HasSuffix(doc[:i], "](") {
				continue
			}
			fallthrough
		case '&':
			if !escapedAt(doc, i) {
				t.Errorf("raw %q in Markdown at %q", doc[i], context(doc, i))
			}
		}
	}
	// Tables: every row has as many unescaped pipes as its header.
	lines := strings.Split(doc, "\n")
	want := -1
	for _, l := range lines {
		if !strings.HasPrefix(l, "|") {
			want = -1
			continue
		}
		n := 0
		for i := 0; i < len(l); i++ {
			if l[i] == '|' && !escapedAt(l, i) {
				n++
			}
		}
		if want < 0 {
			want = n
		} else if n != want {
			t.Errorf("table row has %d cell separators, header %d: %q", n, want, l)
		}
	}
	// Headings are the report's own.
	headings := regexp.MustCompile(`^(# Audit |## [A-Z]|### [A-Z]|#### )`)
	for _, l := range lines {
		if strings.HasPrefix(l, "#") && !headings.MatchString(l) {
			t.Errorf("unexpected heading %q", l)
		}
		if strings.HasPrefix(l, "<") || strings.HasPrefix(l, "# injected") || strings.HasPrefix(l, "| injected") {
			t.Errorf("injected line %q", l)
		}
	}
	for _, s := range hostileStrings() {
		if strings.ContainsAny(s, "<>&|`[]*_\n") && strings.Contains(doc, s) {
			t.Errorf("Markdown contains the raw hostile string %q", s)
		}
	}
	for _, c := range []string{"\x1b", "\u202e", "\r", "\xff"} {
		if strings.Contains(doc, c) {
			t.Errorf("Markdown contains the raw control character %q", c)
		}
	}
}

// escapedAt reports whether the byte at i is preceded by an odd number of backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// context returns the text around i.
func context(s string, i int) string {
	return s[max(0, i-30):min(len(s), i+30)]
}

func TestEveryRemediationRenders(t *testing.T) {
	cat := loadCatalog(t)
	r, err := reportgen.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	codeSpan := regexp.MustCompile("`[^`]+`")
	for _, e := range cat.Checks {
		t.Run(e.ID, func(t *testing.T) {
			in := scored(reportgen.Input{AuditID: id1, ReceivedAt: t1(), AgentVersion: "1.0.0", Host: debianHost(),
				Results: []reportgen.Result{{CheckID: e.ID, Status: report.StatusFail, Severity: e.Severity}}})
			out, err := r.Build(in, cat)
			if err != nil {
				t.Fatal(err)
			}
			f := out.Summary.Failures[0]
			if f.Remediation != e.Remediation || f.Rationale != e.Rationale || f.Title != e.Title {
				t.Error("summary does not carry the catalog text")
			}
			md, page := out.Markdown, html.UnescapeString(out.HTML)
			if !strings.Contains(md, "**How to fix:**") || !strings.Contains(page, "How to fix:") {
				t.Fatal("no fix section")
			}
			// Code blocks stay verbatim: indented in Markdown, in <pre><code> in HTML.
			codeLines := 0
			prevBlank, inCode := true, false
			for _, l := range strings.Split(e.Remediation, "\n") {
				if strings.HasPrefix(l, "    ") && (prevBlank || inCode) {
					inCode = true
					codeLines++
					if !strings.Contains(md, "\n"+l+"\n") {
						t.Errorf("Markdown lacks code line %q", l)
					}
					if !strings.Contains(page, l[4:]) {
						t.Errorf("HTML lacks code line %q", l[4:])
					}
					continue
				}
				inCode = inCode && strings.TrimSpace(l) == ""
				prevBlank = strings.TrimSpace(l) == ""
				// Inline code spans stay code spans.
				for _, span := range codeSpan.FindAllString(l, -1) {
					if !strings.Contains(md, span) {
						t.Errorf("Markdown lacks code span %s", span)
					}
					if !strings.Contains(page, "<code>"+span[1:len(span)-1]+"</code>") {
						t.Errorf("HTML lacks code span %s", span)
					}
				}
			}
			if codeLines > 0 && !strings.Contains(out.HTML, "<pre><code>") {
				t.Error("HTML has no code block")
			}
			if codeLines == 0 && strings.Contains(out.HTML, "<pre>") {
				t.Error("HTML has a code block the catalog does not")
			}
		})
	}
}
