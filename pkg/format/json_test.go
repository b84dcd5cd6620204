package format

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/pkg/report"
)

func TestJSONRoundTrip(t *testing.T) {
	cat := testCatalog(t)
	r := fullReport(t, cat)
	out := render(t, "json", r, Options{Catalog: cat, Color: true})
	if !json.Valid(out) || !bytes.HasSuffix(out, []byte("}\n")) || bytes.HasSuffix(out, []byte("\n\n")) {
		t.Fatalf("not one JSON document with a trailing newline")
	}
	if bytes.IndexByte(out, 0x1b) >= 0 || !bytes.Contains(out, []byte(`\u001b[31mred`)) {
		t.Errorf("ESC is not escaped as \\u001b")
	}
	var back report.Report
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("decode local report: %v", err)
	}
	// Facts decode as float64, so compare re-encoded documents.
	again := render(t, "json", &back, Options{})
	if !bytes.Equal(out, again) {
		t.Errorf("JSON does not round-trip:\n%s\n---\n%s", out, again)
	}
	if back.Results[3].Message != nastyMessage {
		t.Errorf("message did not round-trip: %q", back.Results[3].Message)
	}
	if !reflect.DeepEqual(back.Results[9].Suppression, r.Results[9].Suppression) {
		t.Errorf("suppression did not round-trip")
	}
}

// TestJSONFieldOrder checks that keys appear in struct order, the documented order.
func TestJSONFieldOrder(t *testing.T) {
	cat := testCatalog(t)
	out := string(render(t, "json", fullReport(t, cat), Options{Catalog: cat}))
	keys := []string{`"schema_version"`, `"audit_id"`, `"agent"`, `"started_at"`, `"duration_ms"`, `"host"`, `"summary"`, `"results"`}
	last := -1
	for _, k := range keys {
		i := strings.Index(out, "\n  "+k+":")
		if i <= last {
			t.Fatalf("top-level key %s missing or out of order", k)
		}
		last = i
	}
	summary := []string{`"score"`, `"grade"`, `"scored"`, `"earned"`, `"possible"`, `"counts"`, `"failed_by_severity"`}
	last = strings.Index(out, `"summary"`)
	for _, k := range summary {
		i := strings.Index(out[last:], "\n    "+k+":")
		if i < 0 {
			t.Fatalf("summary key %s missing or out of order", k)
		}
		last += i
	}
	if !strings.HasPrefix(out, "{\n  \"schema_version\": 1,\n") {
		t.Errorf("output does not start with schema_version:\n%.80s", out)
	}
}

func TestJSONEmptyReport(t *testing.T) {
	out := string(render(t, "json", &report.Report{SchemaVersion: report.SchemaVersion}, Options{}))
	if !strings.Contains(out, `"results": []`) || !strings.Contains(out, `"failed_by_severity": {}`) {
		t.Errorf("empty report does not have empty results and failed_by_severity:\n%s", out)
	}
}
