package format

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// Test-side model of JUnit XML, independent of the renderer's types.
type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name     string    `xml:"name,attr"`
	Tests    int       `xml:"tests,attr"`
	Failures int       `xml:"failures,attr"`
	Errors   int       `xml:"errors,attr"`
	Skipped  int       `xml:"skipped,attr"`
	Time     string    `xml:"time,attr"`
	Cases    []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	ClassName string      `xml:"classname,attr"`
	Name      string      `xml:"name,attr"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlProblem `xml:"failure"`
	Error     *xmlProblem `xml:"error"`
	Skipped   *xmlProblem `xml:"skipped"`
}

type xmlProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func parseJUnit(t *testing.T, data []byte) xmlSuites {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(xml.Header)) {
		t.Errorf("JUnit output lacks the XML header")
	}
	var s xmlSuites
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("parse JUnit: %v\n%s", err, data)
	}
	return s
}

func TestJUnitCounters(t *testing.T) {
	cat := testCatalog(t)
	r := fullReport(t, cat)
	s := parseJUnit(t, render(t, "junit", r, Options{Catalog: cat}))
	if s.Name != "server-audit" || s.Time != "0.842" {
		t.Errorf("testsuites name %q time %q", s.Name, s.Time)
	}
	var tests, failures, errs, skipped int
	suites := map[string]xmlSuite{}
	for _, suite := range s.Suites {
		suites[suite.Name] = suite
		var f, e, sk int
		for _, tc := range suite.Cases {
			if tc.ClassName != "server-audit."+suite.Name {
				t.Errorf("testcase %q has classname %q in suite %s", tc.Name, tc.ClassName, suite.Name)
			}
			if tc.Failure != nil {
				f++
			}
			if tc.Error != nil {
				e++
			}
			if tc.Skipped != nil {
				sk++
			}
		}
		if suite.Tests != len(suite.Cases) || suite.Failures != f || suite.Errors != e || suite.Skipped != sk {
			t.Errorf("suite %s: counters tests=%d failures=%d errors=%d skipped=%d, elements %d/%d/%d/%d",
				suite.Name, suite.Tests, suite.Failures, suite.Errors, suite.Skipped, len(suite.Cases), f, e, sk)
		}
		tests, failures, errs, skipped = tests+len(suite.Cases), failures+f, errs+e, skipped+sk
	}
	if s.Tests != tests || s.Failures != failures || s.Errors != errs || s.Skipped != skipped {
		t.Errorf("testsuites counters %d/%d/%d/%d, elements %d/%d/%d/%d", s.Tests, s.Failures, s.Errors, s.Skipped, tests, failures, errs, skipped)
	}
	if s.Tests != 11 || s.Failures != 5 || s.Errors != 1 || s.Skipped != 3 {
		t.Errorf("totals %d/%d/%d/%d, want 11/5/1/3", s.Tests, s.Failures, s.Errors, s.Skipped)
	}
	for _, family := range []string{"system", "ssh", "docker"} {
		if _, ok := suites[family]; !ok {
			t.Errorf("no testsuite for family %s", family)
		}
	}
	if len(s.Suites) != 3 {
		t.Errorf("%d suites, want 3", len(s.Suites))
	}
	if got := suites["docker"].Time; got != "5.001" {
		t.Errorf("docker suite time %s, want 5.001", got)
	}

	cases := map[string]xmlCase{}
	for _, suite := range s.Suites {
		for _, tc := range suite.Cases {
			cases[strings.SplitN(tc.Name, ":", 2)[0]] = tc
		}
	}
	aslr := cases["system.aslr"]
	if aslr.Name != "system.aslr: ASLR is fully enabled" || aslr.Failure == nil || aslr.Failure.Type != "critical" ||
		aslr.Failure.Message != "kernel.randomize_va_space is 0 (disabled)" ||
		!strings.Contains(aslr.Failure.Text, "\n  /proc/sys/kernel/randomize_va_space: 0\n") ||
		!strings.Contains(aslr.Failure.Text, "\nFix: Set kernel.randomize_va_space = 2") {
		t.Errorf("system.aslr testcase = %+v %+v", aslr, aslr.Failure)
	}
	nasty := cases["ssh.password-auth"].Failure
	if nasty == nil || !strings.HasPrefix(nasty.Message, "PasswordAuthentication \"yes\" in <Match User='ci'> & \"a | b\"\nsecond line: colour \\x1b[31mred") {
		t.Errorf("escaped failure message did not round-trip: %+v", nasty)
	}
	if e := cases["docker.socket-perms"].Error; e == nil || e.Type != "timeout" || e.Message != "the Docker API did not answer within 5s" {
		t.Errorf("error testcase = %+v", e)
	}
	if sk := cases["docker.live-restore"].Skipped; sk == nil || sk.Message != "not_installed: Docker is not installed" {
		t.Errorf("skipped testcase = %+v", sk)
	}
	if sk := cases["system.suid-dumpable"].Skipped; sk == nil || sk.Message != `suppressed: Accepted risk: <crash> dumps & triage | see "OPS-12" (until 2026-12-31)` {
		t.Errorf("suppressed testcase = %+v", sk)
	}
	if tc := cases["ssh.max-auth-tries"]; tc.Failure != nil || tc.Error != nil || tc.Skipped != nil || tc.Time != "0.001" {
		t.Errorf("passing testcase = %+v", tc)
	}
}

func TestJUnitEmpty(t *testing.T) {
	s := parseJUnit(t, render(t, "junit", offlineReport(t, testCatalog(t)), Options{}))
	if s.Tests != 2 || s.Skipped != 1 || len(s.Suites) != 1 || s.Suites[0].Name != "system" {
		t.Errorf("offline JUnit = %+v", s)
	}
}
