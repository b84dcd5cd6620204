package format

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/securecodehq/server-audit/pkg/report"
)

// sarifSchemaURL is the $id of the vendored schema (see testdata/README.md).
const sarifSchemaURL = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"

// sarifValidator compiles the vendored SARIF 2.1.0 schema (draft-07, formats asserted).
func sarifValidator(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaURL, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile(sarifSchemaURL)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// instance decodes a JSON document the way the validator expects.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode instance: %v", err)
	}
	return v
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := sarifValidator(t)
	cat := testCatalog(t)
	for name, r := range map[string]*report.Report{
		"full":    fullReport(t, cat),
		"offline": offlineReport(t, cat),
		"empty":   {SchemaVersion: report.SchemaVersion, Summary: report.Summarize(nil)},
	} {
		for _, opts := range []Options{{Catalog: cat}, {}} {
			out := render(t, "sarif", r, opts)
			if err := sch.Validate(instance(t, out)); err != nil {
				t.Errorf("%s (catalog %v): SARIF does not validate: %v", name, opts.Catalog != nil, err)
			}
		}
	}
}

// TestSARIFSchemaRejectsBrokenDocuments makes sure the validation above can fail.
func TestSARIFSchemaRejectsBrokenDocuments(t *testing.T) {
	sch := sarifValidator(t)
	cat := testCatalog(t)
	good := render(t, "sarif", fullReport(t, cat), Options{Catalog: cat})
	for name, breakIt := range map[string]func(doc map[string]any){
		"wrong version": func(doc map[string]any) { doc["version"] = "2.0.0" },
		"invalid kind": func(doc map[string]any) {
			sarifResultAt(doc, 0)["kind"] = "broken"
		},
		"invalid level": func(doc map[string]any) {
			sarifResultAt(doc, 1)["level"] = "critical"
		},
		"result without message": func(doc map[string]any) {
			delete(sarifResultAt(doc, 2), "message")
		},
		"unknown property": func(doc map[string]any) {
			sarifResultAt(doc, 0)["severity"] = "high"
		},
		"suppression without kind": func(doc map[string]any) {
			for i := range 11 {
				if s, ok := sarifResultAt(doc, i)["suppressions"].([]any); ok {
					delete(s[0].(map[string]any), "kind")
				}
			}
		},
		"helpUri not a URI": func(doc map[string]any) {
			run := doc["runs"].([]any)[0].(map[string]any)
			rules := run["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)
			rules[2].(map[string]any)["helpUri"] = "not a uri"
		},
	} {
		var doc map[string]any
		if err := json.Unmarshal(good, &doc); err != nil {
			t.Fatal(err)
		}
		breakIt(doc)
		broken, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(instance(t, broken)); err == nil {
			t.Errorf("%s: the schema accepted a broken SARIF document", name)
		}
	}
}

// sarifResultAt returns results[i] of the first run of a decoded SARIF document.
func sarifResultAt(doc map[string]any, i int) map[string]any {
	run := doc["runs"].([]any)[0].(map[string]any)
	return run["results"].([]any)[i].(map[string]any)
}

func TestSARIFMapping(t *testing.T) {
	cat := testCatalog(t)
	r := fullReport(t, cat)
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name           string `json:"name"`
					Version        string `json:"version"`
					InformationURI string `json:"informationUri"`
					Rules          []struct {
						ID                   string `json:"id"`
						Name                 string `json:"name"`
						ShortDescription     struct{ Text string }
						FullDescription      struct{ Text string }
						Help                 struct{ Text, Markdown string }
						HelpURI              string `json:"helpUri"`
						DefaultConfiguration struct{ Level string }
						Properties           struct {
							SecuritySeverity string   `json:"security-severity"`
							Tags             []string `json:"tags"`
						}
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Level          string
					Message        struct{ Text string }
					AssociatedRule struct {
						ID    string
						Index int
					}
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Results []struct {
				RuleID       string `json:"ruleId"`
				RuleIndex    int    `json:"ruleIndex"`
				Kind         string
				Level        string
				Message      struct{ Text string }
				Suppressions []struct{ Kind, Justification string }
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", r, Options{Catalog: cat}), &log); err != nil {
		t.Fatal(err)
	}
	if log.Schema != "https://json.schemastore.org/sarif-2.1.0.json" || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("bad SARIF envelope: %s %s, %d runs", log.Schema, log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	d := run.Tool.Driver
	if d.Name != "server-audit" || d.Version != "1.2.3" || d.InformationURI != "https://github.com/securecodehq/server-audit" {
		t.Errorf("driver = %+v", d)
	}
	if len(d.Rules) != len(r.Results) || len(run.Results) != len(r.Results) {
		t.Fatalf("%d rules and %d results for %d checks", len(d.Rules), len(run.Results), len(r.Results))
	}
	aslr := d.Rules[2]
	if aslr.ID != "system.aslr" || aslr.Name != "SystemAslr" || aslr.ShortDescription.Text != "ASLR is fully enabled" ||
		!strings.HasPrefix(aslr.FullDescription.Text, "Address space layout") || !strings.HasPrefix(aslr.Help.Text, "Set kernel.randomize_va_space") ||
		aslr.HelpURI != "https://example.org/benchmarks/aslr" || aslr.DefaultConfiguration.Level != "error" ||
		aslr.Properties.SecuritySeverity != "9.5" || strings.Join(aslr.Properties.Tags, ",") != "security,system" {
		t.Errorf("system.aslr rule = %+v", aslr)
	}
	wantSeverity := map[string]string{"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
	wantLevel := map[string]string{"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
	for i, res := range r.Results {
		rule, got := d.Rules[i], run.Results[i]
		if got.RuleID != res.ID || got.RuleIndex != i || rule.ID != res.ID {
			t.Errorf("result %d: ruleId %s ruleIndex %d, rule %s; want %s", i, got.RuleID, got.RuleIndex, rule.ID, res.ID)
		}
		sev := string(res.Severity)
		if rule.Properties.SecuritySeverity != wantSeverity[sev] || rule.DefaultConfiguration.Level != wantLevel[sev] {
			t.Errorf("rule %s: security-severity %s level %s for severity %s", rule.ID, rule.Properties.SecuritySeverity, rule.DefaultConfiguration.Level, sev)
		}
		wantKind, level := "", "none"
		switch {
		case res.Status == report.StatusFail:
			wantKind, level = "fail", wantLevel[sev]
		case res.Status == report.StatusPass:
			wantKind = "pass"
		case res.Status == report.StatusSkip:
			wantKind = "notApplicable"
		case res.Status == report.StatusError:
			wantKind = "open"
		}
		if got.Kind != wantKind || got.Level != level {
			t.Errorf("%s (%s): kind %s level %s, want %s %s", res.ID, statusOf(res), got.Kind, got.Level, wantKind, level)
		}
		if got.Message.Text == "" {
			t.Errorf("%s: empty message", res.ID)
		}
		if res.Suppressed() {
			if len(got.Suppressions) != 1 || got.Suppressions[0].Kind != "external" || got.Suppressions[0].Justification != res.Suppression.Reason {
				t.Errorf("%s: suppressions = %+v", res.ID, got.Suppressions)
			}
		} else if len(got.Suppressions) != 0 {
			t.Errorf("%s: unexpected suppressions", res.ID)
		}
	}
	if got := run.Results[3].Message.Text; !strings.HasPrefix(got, nastyMessage) || !strings.HasSuffix(got, "\nmulti\nline \x1b]0;title\x07 detail") {
		t.Errorf("message with details = %q", got)
	}
	if len(run.Invocations) != 1 || !run.Invocations[0].ExecutionSuccessful {
		t.Fatalf("invocations = %+v", run.Invocations)
	}
	notes := run.Invocations[0].ToolExecutionNotifications
	if len(notes) != 1 || notes[0].Level != "error" || notes[0].Message.Text != "the Docker API did not answer within 5s" ||
		notes[0].AssociatedRule.ID != "docker.socket-perms" || notes[0].AssociatedRule.Index != 8 {
		t.Errorf("notifications = %+v", notes)
	}
}
