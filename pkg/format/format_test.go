package format

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/internal/golden"
	"github.com/securecodehq/server-audit/pkg/report"
)

func TestNames(t *testing.T) {
	want := []string{"table", "json", "sarif", "junit", "markdown"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestUnknownFormat(t *testing.T) {
	cat := testCatalog(t)
	var buf bytes.Buffer
	for _, name := range []string{"", "yaml", "TABLE", "sarif "} {
		err := Write(&buf, name, fullReport(t, cat), Options{Catalog: cat})
		if err == nil {
			t.Errorf("Write(%q) succeeded, want an error", name)
		} else if !strings.Contains(err.Error(), "unknown output format") {
			t.Errorf("Write(%q) error = %v", name, err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("unknown formats wrote %d bytes", buf.Len())
	}
}

func TestNilReport(t *testing.T) {
	for _, name := range Names() {
		if err := Write(&bytes.Buffer{}, name, nil, Options{}); err == nil {
			t.Errorf("Write(%s, nil report) succeeded", name)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorIsWrapped(t *testing.T) {
	cat := testCatalog(t)
	for _, name := range Names() {
		err := Write(failingWriter{}, name, fullReport(t, cat), Options{Catalog: cat})
		if err == nil || !strings.Contains(err.Error(), "write "+name+": disk full") {
			t.Errorf("Write(%s) to a failing writer: error = %v", name, err)
		}
	}
}

// TestGolden pins the exact output of every format for two reports.
func TestGolden(t *testing.T) {
	cat := testCatalog(t)
	file := map[string]string{"table": "table.txt", "json": "json", "sarif": "sarif", "junit": "junit.xml", "markdown": "md"}
	reports := map[string]*report.Report{"full": fullReport(t, cat), "offline": offlineReport(t, cat)}
	for rname, r := range reports {
		for _, name := range Names() {
			t.Run(rname+"/"+name, func(t *testing.T) {
				got := render(t, name, r, Options{Catalog: cat})
				golden.Assert(t, "testdata/golden/"+rname+"."+file[name], got)
			})
		}
		t.Run(rname+"/table-color", func(t *testing.T) {
			got := render(t, "table", r, Options{Catalog: cat, Color: true})
			golden.Assert(t, "testdata/golden/"+rname+".table-color.txt", got)
		})
	}
}

// TestNoCatalog renders every format without a catalog: the report's own text is enough.
func TestNoCatalog(t *testing.T) {
	cat := testCatalog(t)
	r := fullReport(t, cat)
	for _, name := range Names() {
		out := render(t, name, r, Options{})
		if !bytes.Contains(out, []byte("system.aslr")) {
			t.Errorf("%s without catalog lacks system.aslr", name)
		}
	}
	// A result whose check is unknown to the catalog still renders.
	r.Results = append(r.Results, report.Result{ID: "future.new-check", Status: report.StatusFail, Severity: "high", Message: "new"})
	r.Summary = report.Summarize(r.Results)
	for _, name := range Names() {
		out := render(t, name, r, Options{Catalog: cat})
		if !bytes.Contains(out, []byte("future.new-check")) {
			t.Errorf("%s lacks a check unknown to the catalog", name)
		}
	}
}

// TestHumanFormatsHaveNoControlBytes checks that host text cannot put control characters
// into the table (without colour), Markdown or JUnit.
func TestHumanFormatsHaveNoControlBytes(t *testing.T) {
	cat := testCatalog(t)
	r := fullReport(t, cat)
	for _, name := range []string{"table", "markdown", "junit", "json", "sarif"} {
		out := render(t, name, r, Options{Catalog: cat})
		for i, b := range out {
			if (b < 0x20 && b != '\n' && b != '\t') || b == 0x7f {
				t.Errorf("%s: control byte %#x at offset %d", name, b, i)
				break
			}
		}
	}
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"tab\tnl\n":      "tab\tnl\n",
		"\x1b[31mred":    `\x1b[31mred`,
		"bell\a del\x7f": `bell\x07 del\x7f`,
		"c1 \u0085 end":  `c1 \u0085 end`,
		"bad \xff utf8":  "bad \uFFFD utf8",
		"nonchar \uffff": `nonchar \uffff`,
		"cr\r":           `cr\x0d`,
		"unicode ✓ é 日本": "unicode ✓ é 日本",
	} {
		if got := visible(in); got != want {
			t.Errorf("visible(%q) = %q, want %q", in, got, want)
		}
	}
}
