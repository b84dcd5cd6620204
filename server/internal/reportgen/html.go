package reportgen

import (
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"
)

// htmlTemplate is the report page. It is self-contained (inline CSS, no scripts, no external
// resources, no inline event handlers or style attributes), so it can be served under a
// Content-Security-Policy such as "default-src 'none'; style-src 'unsafe-inline'". Every
// dynamic value goes through html/template's contextual escaping; nothing is marked as
// template.HTML.
//
// «segs X», «title» and «block» are expanded by expandMacros before parsing: text/template
// has no macros, and calling a {{template}} for every piece of text in the long parts of a
// report (findings, tables) costs more than the text itself. Parts shown once use the
// "segs" template instead, which keeps the template small to parse and escape.
const htmlTemplate = `{{define "segs"}}«segs .»{{end -}}
{{define "changes"}}{{if .Rows}}
<ul class="changes">{{range .Rows}}
<li><code class="v">{{.ID}}</code> <span class="sev sev-{{.Class}}">{{.Severity}}</span> «title»{{if .Note}} — «segs .Note»{{end}}</li>{{end}}
</ul>{{else}}
<p>None.</p>{{end}}{{end -}}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Audit {{.AuditID}}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff;margin:0}
main{max-width:60rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .75rem}
h2{font-size:1.25rem;margin:2rem 0 .75rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
h3{font-size:1.1rem;margin:1.5rem 0 .5rem}
h4{font-size:1rem;margin:1.25rem 0 .5rem}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}
pre{background:#f3f4f6;padding:.75rem;overflow-x:auto;border-radius:4px}
pre code{padding:0;background:none;overflow-wrap:normal}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.n,th.n{text-align:right}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .75rem;border-radius:4px}
.finding{border-left:4px solid #d0d7de;padding-left:.9rem;margin:1rem 0}
.finding.sev-critical{border-color:#a40e26}.finding.sev-high{border-color:#cf222e}
.finding.sev-medium{border-color:#bc4c00}.finding.sev-low{border-color:#9a6700}
.sev,.new,.st{display:inline-block;font-size:12px;padding:0 .45em;border-radius:3px;background:#eaeef2}
.sev.sev-critical,.sev-critical .sev{background:#a40e26;color:#fff}
.sev.sev-high,.sev-high .sev{background:#cf222e;color:#fff}
.sev.sev-medium,.sev-medium .sev{background:#bc4c00;color:#fff}
.sev.sev-low,.sev-low .sev{background:#9a6700;color:#fff}
.new{background:#0969da;color:#fff}
.st-pass{background:#dafbe1}.st-error{background:#ffebe9}
</style>
</head>
<body>
<main>
<h1>Audit <code class="v">{{.AuditID}}</code>, received {{.Received}}</h1>
<ul>
<li><strong>Host:</strong> {{template "segs" .Host}}</li>{{if .Agent}}
<li><strong>Agent:</strong> server-audit <code class="v">{{.Agent}}</code></li>{{end}}
<li><strong>Score:</strong> {{template "segs" .Score}}{{if .Change}} ({{template "segs" .Change}}){{end}}</li>
</ul>{{if .Mismatch}}
<p class="warn"><strong>Score mismatch:</strong> {{template "segs" .Mismatch}}</p>{{end}}

<h2>Summary</h2>
<table>
<thead><tr><th>Status</th><th class="n">Checks</th><th>Note</th></tr></thead>
<tbody>{{range .Counts}}
<tr><td>{{template "segs" .Label}}</td><td class="n">{{.N}}</td><td>{{template "segs" .Note}}</td></tr>{{end}}
<tr><th>Total</th><th class="n">{{.Total}}</th><th></th></tr>
</tbody>
</table>
<table>
<thead><tr><th>Severity</th><th class="n">Failed</th></tr></thead>
<tbody>{{range .Severities}}
<tr><td>{{template "segs" .Label}}</td><td class="n">{{.N}}</td></tr>{{end}}
</tbody>
</table>

<h2>What changed</h2>{{if .First}}
<p>This is the first audit of this server: there is nothing to compare with yet.</p>{{else}}
<p>{{template "segs" .Previous}}</p>
<h3>New failures ({{len .NewFailures}})</h3>{{template "changes" (rows .NewFailures)}}
<h3>Fixed ({{len .Fixed}})</h3>{{template "changes" (rows .Fixed)}}{{if .NotRechecked}}
<h3>Failed last time, not re-checked now ({{len .NotRechecked}})</h3>
<p>These checks failed in the previous audit and were not evaluated this time, so they may still fail; they are neither fixed nor new.</p>{{template "changes" (rows .NotRechecked)}}{{end}}{{end}}

<h2>Failures ({{.FailureCount}})</h2>{{if not .FailureCount}}
<p>No check failed.</p>{{end}}{{range .Groups}}
<h3>{{template "segs" .Label}} ({{len .Findings}})</h3>{{range .Findings}}
<section class="finding sev-{{.Class}}" id="{{.Anchor}}">
<h4><code class="v">{{.ID}}</code>: «title»{{if .New}} <span class="new">new</span>{{end}}</h4>
<ul>
<li><strong>Severity:</strong> <span class="sev">{{.Severity}}</span></li>{{if .Family}}
<li><strong>Family:</strong> {{.Family}}</li>{{end}}{{if .New}}
<li><strong>New:</strong> this check did not fail in the previous audit</li>{{end}}{{if .Facts}}
<li><strong>Facts:</strong>
<ul>{{range .Facts}}
<li><code class="v">{{.Line}}</code></li>{{end}}
</ul></li>{{end}}
</ul>{{if .Known}}
<p><strong>Why it matters:</strong></p>{{range .Rationale}}«block»{{end}}
<p><strong>How to fix:</strong></p>{{range .Remediation}}«block»{{end}}{{else}}
<p>This check is not in the server's catalog (the agent is probably newer than the server), so there is no description or fix to show.</p>{{end}}
</section>{{end}}{{end}}

<h2>Other results ({{len .Others}})</h2>{{if .Others}}
<table>
<thead><tr><th>Check</th><th>Title</th><th>Severity</th><th>Status</th><th>Reason</th></tr></thead>
<tbody>{{range .Others}}
<tr><td><code class="v">{{.ID}}</code></td><td>«title»</td><td>{{.Severity}}</td><td><span class="st st-{{.Class}}">{{.Status}}</span></td><td>{{if .Reason}}<code class="v">{{.Reason}}</code>{{end}}</td></tr>{{end}}
</tbody>
</table>{{else}}
<p>None.</p>{{end}}
</main>
</body>
</html>
`

// macro matches the macros of htmlTemplate.
const macroPattern = `«(segs [^»]+|title|block)»`

// expandMacros expands the macros of htmlTemplate:
//
//   - «segs X» shows the segments X: catalog code spans as <code>, payload values as
//     <code class="v">, prose as text;
//   - «title» shows .Title of a check, or a note when the catalog does not know it (.Known);
//   - «block» shows a block of catalog text (the dot): a <pre> code block or a paragraph.
func expandMacros(tmpl string) string {
	segs := func(x string) string {
		return `{{range ` + x + `}}{{if .Code}}<code>{{.Text}}</code>{{else if .Value}}<code class="v">{{.Text}}</code>{{else}}{{.Text}}{{end}}{{end}}`
	}
	return regexp.MustCompile(macroPattern).ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[len("«") : len(m)-len("»")]
		switch {
		case name == "title":
			return `{{if .Known}}` + segs(".Title") + `{{else}}<em>not in this server's catalog</em>{{end}}`
		case name == "block":
			return "{{if .Code}}\n<pre><code>{{.CodeText}}</code></pre>{{else}}\n<p>" + segs(".Segs") + "</p>{{end}}"
		}
		return segs(strings.TrimPrefix(name, "segs "))
	})
}

// changeList is the argument of the "changes" template.
type changeList struct{ Rows []changeRow }

// htmlRenderer renders the HTML page of a report.
type htmlRenderer struct {
	tmpl *template.Template
}

// newHTMLRenderer parses the page template and executes it once on an empty view, which
// runs html/template's contextual escaper (otherwise done lazily by the first render) and
// proves the template well-formed.
func newHTMLRenderer() (*htmlRenderer, error) {
	t, err := template.New("report").Funcs(template.FuncMap{
		"rows": func(rows []changeRow) changeList { return changeList{Rows: rows} },
	}).Parse(expandMacros(htmlTemplate))
	if err != nil {
		return nil, fmt.Errorf("reportgen: parse HTML template: %w", err)
	}
	if err := t.Execute(io.Discard, &view{}); err != nil {
		return nil, fmt.Errorf("reportgen: check HTML template: %w", err)
	}
	return &htmlRenderer{tmpl: t}, nil
}

// render executes the page template for the view of m.
func (h *htmlRenderer) render(v *view) (string, error) {
	var buf strings.Builder
	buf.Grow(6144 + 250*v.rows() + 1600*v.FailureCount)
	if err := h.tmpl.Execute(&buf, v); err != nil {
		return "", fmt.Errorf("reportgen: render HTML: %w", err)
	}
	return buf.String(), nil
}
