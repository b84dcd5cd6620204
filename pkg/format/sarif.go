package format

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// SARIF constants.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "server-audit"
	toolURI      = "https://github.com/securecodehq/server-audit"
)

// sarifLog is the top-level SARIF object. Only the properties this renderer writes are
// modelled; the field order is the output order.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string              `json:"id"`
	Name                 string              `json:"name"`
	ShortDescription     *sarifMessageString `json:"shortDescription,omitempty"`
	FullDescription      *sarifMessageString `json:"fullDescription,omitempty"`
	HelpURI              string              `json:"helpUri,omitempty"`
	Help                 *sarifMessageString `json:"help,omitempty"`
	DefaultConfiguration sarifConfiguration  `json:"defaultConfiguration"`
	Properties           sarifRuleProperties `json:"properties"`
}

type sarifMessageString struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProperties struct {
	SecuritySeverity string   `json:"security-severity"`
	Tags             []string `json:"tags"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	StartTimeUTC               string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC                 string              `json:"endTimeUtc,omitempty"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level          string             `json:"level"`
	Message        sarifMessage       `json:"message"`
	AssociatedRule *sarifRuleRef      `json:"associatedRule,omitempty"`
	Properties     *sarifNoteProperty `json:"properties,omitempty"`
}

type sarifNoteProperty struct {
	Reason string `json:"reason,omitempty"`
}

type sarifRuleRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Kind         string             `json:"kind"`
	Level        string             `json:"level"`
	Message      sarifMessage       `json:"message"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	Properties   sarifResultProps   `json:"properties"`
}

type sarifSuppression struct {
	Kind          string            `json:"kind"`
	Justification string            `json:"justification,omitempty"`
	Properties    map[string]string `json:"properties,omitempty"`
}

type sarifResultProps struct {
	Severity catalog.Severity `json:"severity"`
	Status   string           `json:"status"`
	Reason   report.Reason    `json:"reason,omitempty"`
}

// sarifLevel maps a severity to the SARIF level of a failure: critical and high are
// errors, medium is a warning, low and info are notes.
func sarifLevel(s catalog.Severity) string {
	switch s {
	case catalog.SeverityCritical, catalog.SeverityHigh:
		return "error"
	case catalog.SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity maps a severity to the CVSS-like score dashboards read from the
// "security-severity" rule property.
func securitySeverity(s catalog.Severity) string {
	switch s {
	case catalog.SeverityCritical:
		return "9.5"
	case catalog.SeverityHigh:
		return "8.0"
	case catalog.SeverityMedium:
		return "5.5"
	case catalog.SeverityLow:
		return "3.0"
	}
	return "0.0"
}

// ruleName turns a check ID into a CamelCase rule name: "ssh.permit-root-login" becomes
// "SshPermitRootLogin".
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]))
		b.WriteString(part[1:])
	}
	return b.String()
}

// sarifRuleFor describes a check as a SARIF rule, from the catalog when it knows the check
// and from the result otherwise.
func sarifRuleFor(res report.Result, opts Options) sarifRule {
	e, known := entry(opts, res.ID)
	sev := res.Severity
	if !sev.Valid() && known {
		sev = e.Severity
	}
	rule := sarifRule{
		ID:                   res.ID,
		Name:                 ruleName(res.ID),
		ShortDescription:     &sarifMessageString{Text: titleOf(opts, res)},
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(sev)},
		Properties: sarifRuleProperties{
			SecuritySeverity: securitySeverity(sev),
			Tags:             []string{"security", familyOf(res)},
		},
	}
	if known && e.Rationale != "" {
		rule.FullDescription = &sarifMessageString{Text: strings.TrimSpace(e.Rationale)}
	}
	if fix := strings.TrimSpace(remediationOf(opts, res)); fix != "" {
		rule.Help = &sarifMessageString{Text: fix, Markdown: mdCatalog(fix, "\n", false)}
	}
	if known {
		for _, ref := range e.References {
			if ref.URL != "" {
				rule.HelpURI = ref.URL
				break
			}
		}
	}
	return rule
}

// sarifText is the message of a result: the message and the details, one per line, or the
// title when the check gave no message.
func sarifText(res report.Result, opts Options) string {
	var parts []string
	switch {
	case res.Suppressed():
		parts = append(parts, "Suppressed: "+suppressionText(res))
	case res.Status == report.StatusSkip || res.Status == report.StatusError:
		parts = append(parts, reasonMessage(res.Reason, res.Message))
	case res.Message != "":
		parts = append(parts, res.Message)
	default:
		parts = append(parts, titleOf(opts, res))
	}
	parts = append(parts, res.Details...)
	return strings.Join(parts, "\n")
}

// renderSARIF writes a SARIF 2.1.0 log with one run. Every check in the report is a rule
// and has a result: fail is kind "fail" with the level of its severity, pass is "pass",
// skip is "notApplicable", suppressed is "notApplicable" with an external suppression, and
// error is "open" with a tool execution notification. Results have no locations: host
// findings are not in source files, and none are invented.
func renderSARIF(buf *bytes.Buffer, r *report.Report, opts Options) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           toolName,
			Version:        r.Agent.Version,
			InformationURI: toolURI,
			Rules:          []sarifRule{},
		}},
		Results: []sarifResult{},
		Properties: map[string]any{
			"auditId": r.AuditID,
			"score":   r.Summary.Score,
			"grade":   r.Summary.Grade,
			"scored":  r.Summary.Scored,
		},
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	if !r.StartedAt.IsZero() {
		start := r.StartedAt.UTC()
		inv.StartTimeUTC = start.Format(time.RFC3339Nano)
		inv.EndTimeUTC = start.Add(time.Duration(r.DurationMS) * time.Millisecond).Format(time.RFC3339Nano)
	}
	ruleIndex := map[string]int{}
	for _, res := range r.Results {
		idx, ok := ruleIndex[res.ID]
		if !ok {
			idx = len(run.Tool.Driver.Rules)
			ruleIndex[res.ID] = idx
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleFor(res, opts))
		}
		out := sarifResult{
			RuleID:     res.ID,
			RuleIndex:  idx,
			Level:      "none",
			Message:    sarifMessage{Text: sarifText(res, opts)},
			Properties: sarifResultProps{Severity: res.Severity, Status: statusOf(res), Reason: res.Reason},
		}
		switch {
		case res.Status == report.StatusFail:
			out.Kind, out.Level = "fail", sarifLevel(res.Severity)
		case res.Status == report.StatusPass:
			out.Kind = "pass"
		case res.Suppressed():
			out.Kind = "notApplicable"
			supp := sarifSuppression{Kind: "external", Justification: "no reason given"}
			if res.Suppression != nil {
				if res.Suppression.Reason != "" {
					supp.Justification = res.Suppression.Reason
				}
				if res.Suppression.Until != "" {
					supp.Properties = map[string]string{"until": res.Suppression.Until}
				}
			}
			out.Suppressions = []sarifSuppression{supp}
		case res.Status == report.StatusSkip:
			out.Kind = "notApplicable"
		default:
			out.Kind = "open"
			note := res.Message
			if note == "" {
				note = reasonMessage(res.Reason, "the check could not be evaluated")
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level:          "error",
				Message:        sarifMessage{Text: note},
				AssociatedRule: &sarifRuleRef{ID: res.ID, Index: idx},
				Properties:     &sarifNoteProperty{Reason: string(res.Reason)},
			})
		}
		run.Results = append(run.Results, out)
	}
	run.Invocations = []sarifInvocation{inv}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}
