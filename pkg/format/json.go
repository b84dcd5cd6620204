package format

import (
	"bytes"
	"encoding/json"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// renderJSON writes the local report as indented JSON in struct field order, with a
// trailing newline. Map keys (facts, failed_by_severity) are sorted by encoding/json. The
// only normalisation is that a missing results list or failed_by_severity map is written as
// an empty array or object rather than null, so consumers can always iterate them. HTML
// characters are not escaped (the output is not meant for embedding in HTML); control
// characters are escaped as \u00XX by encoding/json.
func renderJSON(buf *bytes.Buffer, r *report.Report, _ Options) error {
	out := *r
	if out.Results == nil {
		out.Results = []report.Result{}
	}
	if out.Summary.FailedBySeverity == nil {
		out.Summary.FailedBySeverity = map[catalog.Severity]int{}
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(&out)
}
