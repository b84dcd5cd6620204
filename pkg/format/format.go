// Package format renders the local report of an audit (report.Report) for people and tools:
// a human table for terminals, the JSON local report, SARIF 2.1.0 for code-scanning
// dashboards, JUnit XML for CI test reports and Markdown for tickets and pull requests.
//
// Renderers only present a report; they never decide an exit code and never change the
// report. The local report contains details observed on the host (paths, names, excerpts):
// every renderer here writes them, so the output is for the user, not for upload. The upload
// payload is built by report.Payload alone.
//
// Text observed on the host (messages, details, reasons, names) may contain control
// characters. The human formats (table, Markdown, JUnit) show them as visible escapes such as
// \x1b so that an audited file cannot drive the reader's terminal; the JSON formats (json,
// sarif) keep the exact strings, escaped by encoding/json.
package format

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"

	"github.com/securecodehq/server-audit/pkg/textsafe"
)

// Options configures rendering.
type Options struct {
	// Color enables ANSI colour in the table format; other formats ignore it. The caller
	// decides (a TTY and no NO_COLOR); with Color false no output contains an ESC byte.
	Color bool
	// Catalog supplies rule text: family titles, rationale, remediation and references.
	// It may be nil; renderers then fall back to what the report itself carries.
	Catalog *catalog.Catalog
}

// Format names accepted by Write.
const (
	// Table is the default human report for terminals.
	Table = "table"
	// JSON is the local report as indented JSON.
	JSON = "json"
	// SARIF is a SARIF 2.1.0 log for code-scanning dashboards.
	SARIF = "sarif"
	// JUnit is JUnit XML for CI test reports.
	JUnit = "junit"
	// Markdown is a report for tickets and pull requests.
	Markdown = "markdown"
)

// Names returns the format names Write accepts, the default ("table") first.
func Names() []string { return []string{Table, JSON, SARIF, JUnit, Markdown} }

// Write renders r in the named format to w. An unknown name, a nil report or a failed write
// is an error; the output is rendered completely in memory before anything is written.
func Write(w io.Writer, name string, r *report.Report, opts Options) error {
	var render func(*bytes.Buffer, *report.Report, Options) error
	switch name {
	case Table:
		render = renderTable
	case JSON:
		render = renderJSON
	case SARIF:
		render = renderSARIF
	case JUnit:
		render = renderJUnit
	case Markdown:
		render = renderMarkdown
	default:
		return fmt.Errorf("unknown output format %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	if r == nil {
		return fmt.Errorf("write %s: no report", name)
	}
	var buf bytes.Buffer
	if err := render(&buf, r, opts); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// entry returns the catalog entry of a check; ok is false without a catalog or entry.
func entry(opts Options, id string) (catalog.Entry, bool) {
	if opts.Catalog == nil {
		return catalog.Entry{}, false
	}
	return opts.Catalog.Lookup(id)
}

// familyTitle returns the report heading of a family.
func familyTitle(opts Options, family string) string {
	if opts.Catalog == nil {
		return family
	}
	return opts.Catalog.FamilyTitle(family)
}

// familyOf returns the family of a result, derived from its ID when the field is empty.
func familyOf(res report.Result) string {
	if res.Family != "" {
		return res.Family
	}
	family, _, _ := strings.Cut(res.ID, ".")
	return family
}

// titleOf returns the title of a result: its own, the catalog's, or the ID.
func titleOf(opts Options, res report.Result) string {
	if res.Title != "" {
		return res.Title
	}
	if e, ok := entry(opts, res.ID); ok {
		return e.Title
	}
	return res.ID
}

// remediationOf returns the fix of a result: its own copy, or the catalog's.
func remediationOf(opts Options, res report.Result) string {
	if res.Remediation != "" {
		return res.Remediation
	}
	if e, ok := entry(opts, res.ID); ok {
		return e.Remediation
	}
	return ""
}

// statusOf is a result's status as reports show it: "suppressed" is split out of skip.
func statusOf(res report.Result) string {
	if res.Suppressed() {
		return "suppressed"
	}
	return string(res.Status)
}

// suppressionText returns the user's reason for a suppression, with its expiry if any.
func suppressionText(res report.Result) string {
	if res.Suppression == nil {
		if res.Message != "" {
			return res.Message
		}
		return "no reason given"
	}
	text := res.Suppression.Reason
	if text == "" {
		text = "no reason given"
	}
	if res.Suppression.Until != "" {
		text += " (until " + res.Suppression.Until + ")"
	}
	return text
}

// reasonMessage joins a reason code and a message as "reason: message".
func reasonMessage(reason report.Reason, message string) string {
	switch {
	case reason == "":
		return message
	case message == "":
		return string(reason)
	}
	return string(reason) + ": " + message
}

// familyGroup is the results of one family.
type familyGroup struct {
	name    string
	results []report.Result
}

// groupByFamily groups results by family: families declared in the catalog first, in
// catalog order, then any others by name. Results keep their report order.
func groupByFamily(results []report.Result, opts Options) []familyGroup {
	index := map[string]int{}
	var groups []familyGroup
	for _, res := range results {
		family := familyOf(res)
		i, ok := index[family]
		if !ok {
			i = len(groups)
			index[family] = i
			groups = append(groups, familyGroup{name: family})
		}
		groups[i].results = append(groups[i].results, res)
	}
	order := map[string]int{}
	if opts.Catalog != nil {
		for i, f := range opts.Catalog.Families {
			order[f.Name] = i
		}
	}
	slices.SortStableFunc(groups, func(a, b familyGroup) int {
		ia, aok := order[a.name]
		ib, bok := order[b.name]
		switch {
		case aok && bok:
			return cmp.Compare(ia, ib)
		case aok:
			return -1
		case bok:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return groups
}

// statusRank orders statuses for human reports: failures, errors, skips, suppressed, passes.
func statusRank(res report.Result) int {
	switch {
	case res.Status == report.StatusFail:
		return 0
	case res.Status == report.StatusError:
		return 1
	case res.Suppressed():
		return 3
	case res.Status == report.StatusSkip:
		return 2
	case res.Status == report.StatusPass:
		return 4
	}
	return 5
}

// compareResults orders results by status rank, then severity (critical first), then ID.
func compareResults(a, b report.Result) int {
	if c := cmp.Compare(statusRank(a), statusRank(b)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// sortedResults returns a sorted copy of results.
func sortedResults(results []report.Result) []report.Result {
	out := slices.Clone(results)
	slices.SortStableFunc(out, compareResults)
	return out
}

// visible makes host text safe to print: invalid UTF-8 becomes U+FFFD, and control
// characters (C0 except tab and newline, DEL, C1) and the non-characters U+FFFE/U+FFFF
// become visible escapes (\x1b, \u0085). Tabs and newlines are kept; callers that need a
// single line split or replace them.
func visible(s string) string { return textsafe.Escape(s, needsEscape) }

// needsEscape reports whether visible escapes c.
func needsEscape(c rune) bool { return c != '\t' && c != '\n' && textsafe.Control(c) }

// lines splits text into its lines after making it visible; "" gives no lines. CRLF counts
// as a newline, tabs become spaces and trailing newlines add no empty lines.
func lines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimRight(visible(text), "\n")
	if text == "" {
		return nil
	}
	text = strings.ReplaceAll(text, "\t", " ")
	return strings.Split(text, "\n")
}

// failedBySeverity describes the failure counts, highest severity first ("1 high", "3 low").
func failedBySeverity(s report.Summary) []string {
	var parts []string
	sevs := catalog.Severities()
	for i := len(sevs) - 1; i >= 0; i-- {
		if n := s.FailedBySeverity[sevs[i]]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sevs[i]))
		}
	}
	return parts
}
