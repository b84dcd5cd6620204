package format

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/pkg/report"
)

// junitSuites is the <testsuites> root.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

// junitSuite is one <testsuite>: the checks of one family.
type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

// junitCase is one <testcase>: one check.
type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitProblem `xml:"skipped"`
}

// junitProblem is a <failure>, <error> or <skipped> element: attributes and a text body.
type junitProblem struct {
	Message string
	Type    string
	Text    string
}

// MarshalXML writes the element with its attributes and text. The text goes through
// xml.Encoder's token escaping, which escapes markup characters but keeps newlines literal,
// so multi-line bodies stay readable in the file.
func (p junitProblem) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "message"}, Value: p.Message})
	if p.Type != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "type"}, Value: p.Type})
	}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if p.Text != "" {
		if err := e.EncodeToken(xml.CharData(p.Text)); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// seconds formats milliseconds as seconds with millisecond precision.
func seconds(ms float64) string {
	return strconv.FormatFloat(max(ms, 0)/1000, 'f', 3, 64)
}

// junitText joins lines with newlines after making them visible.
func junitText(parts ...string) string {
	var out []string
	for _, p := range parts {
		out = append(out, lines(p)...)
	}
	return strings.Join(out, "\n")
}

// renderJUnit writes JUnit XML: one <testsuite> per family and one <testcase> per check.
// fail is a <failure> typed by severity, error an <error> typed by reason code, skip and
// suppressed a <skipped>. Suite times are the summed check times; the root's time is the
// audit's wall time (checks run concurrently).
func renderJUnit(buf *bytes.Buffer, r *report.Report, opts Options) error {
	root := junitSuites{Name: toolName, Time: seconds(float64(r.DurationMS))}
	for _, g := range groupByFamily(r.Results, opts) {
		suite := junitSuite{Name: visible(g.name)}
		var total float64
		for _, res := range g.results {
			tc := junitCase{
				ClassName: toolName + "." + visible(g.name),
				Name:      visible(res.ID) + ": " + junitText(titleOf(opts, res)),
				Time:      seconds(res.DurationMS),
			}
			total += max(res.DurationMS, 0)
			switch res.Status {
			case report.StatusFail:
				suite.Failures++
				body := []string{res.Message}
				for _, d := range res.Details {
					for _, l := range lines(d) {
						body = append(body, "  "+l)
					}
				}
				if fix := remediationOf(opts, res); fix != "" {
					body = append(body, "Fix: "+fix)
				}
				msg := res.Message
				if msg == "" {
					msg = titleOf(opts, res)
				}
				tc.Failure = &junitProblem{Message: junitText(msg), Type: visible(string(res.Severity)), Text: junitText(body...)}
			case report.StatusError:
				suite.Errors++
				body := append([]string{res.Message}, res.Details...)
				tc.Error = &junitProblem{Message: junitText(res.Message), Type: visible(string(res.Reason)), Text: junitText(body...)}
			case report.StatusSkip:
				suite.Skipped++
				msg := reasonMessage(res.Reason, res.Message)
				if res.Suppressed() {
					msg = reasonMessage(res.Reason, suppressionText(res))
				}
				tc.Skipped = &junitProblem{Message: junitText(msg)}
			}
			suite.Tests++
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Time = seconds(total)
		root.Tests += suite.Tests
		root.Failures += suite.Failures
		root.Errors += suite.Errors
		root.Skipped += suite.Skipped
		root.Suites = append(root.Suites, suite)
	}
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(buf)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return nil
}
