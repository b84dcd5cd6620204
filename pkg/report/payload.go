package report

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/score"
)

// Payload is the wire form of an audit: what an upload sends and nothing more. Every string
// in it is a declared key, a catalog ID, an enum value, a version, an object id, the audit id
// or a timestamp.
type Payload struct {
	SchemaVersion int             `json:"schema_version"`
	AuditID       string          `json:"audit_id"`
	AgentVersion  string          `json:"agent_version"`
	StartedAt     string          `json:"started_at"`
	DurationMS    int64           `json:"duration_ms"`
	Host          PayloadHost     `json:"host"`
	Score         int             `json:"score"`
	Grade         string          `json:"grade"`
	Results       []PayloadResult `json:"results"`
	// DroppedFacts counts facts that did not validate against their schema and were left out.
	DroppedFacts int `json:"dropped_facts"`
}

// PayloadHost is the wire description of the host: no hostname, no paths, no addresses.
type PayloadHost struct {
	OS            string `json:"os"`
	Arch          string `json:"arch,omitempty"`
	Distro        string `json:"distro,omitempty"`
	DistroVersion string `json:"distro_version,omitempty"`
	Kernel        string `json:"kernel,omitempty"`
	Live          bool   `json:"live"`
}

// PayloadResult is the wire form of one result.
type PayloadResult struct {
	ID       string           `json:"id"`
	Status   Status           `json:"status"`
	Severity catalog.Severity `json:"severity"`
	Reason   Reason           `json:"reason,omitempty"`
	Facts    map[string]any   `json:"facts,omitempty"`
}

// Grammar of the payload's own fields.
var (
	auditIDPattern   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timestampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
)

// KnownOS lists the OS values of the payload.
var knownOS = []string{"linux"}

// knownArch lists the architectures the agent is built for.
var knownArch = []string{"amd64", "arm64", "arm", "386"}

// knownDistros lists os-release IDs sent as such; anything else is sent as "other".
var knownDistros = []string{
	"almalinux", "alpine", "amzn", "arch", "centos", "debian", "fedora", "ol", "opensuse-leap",
	"opensuse-tumbleweed", "raspbian", "rhel", "rocky", "sles", "ubuntu",
}

// MaxResults bounds the number of results in a payload.
const MaxResults = 2048

// PayloadOptions configures Payload.
type PayloadOptions struct {
	// ObjectKey is the per-host secret that object names are hashed under. When empty, a
	// random key is used, so object ids are consistent within this payload only.
	ObjectKey []byte
}

// Payload builds the wire payload from a local report. This is the redaction choke point:
// it reads only IDs, statuses, severities, reason codes and facts, normalises every fact
// against its declared schema and drops (and counts) those that do not fit. Messages,
// details, remediation, suppression reasons, the hostname and the root never reach it.
// The result is validated before it is returned.
func (r *Report) Payload(cat *catalog.Catalog, opts PayloadOptions) (*Payload, error) {
	key := opts.ObjectKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate object key: %w", err)
		}
	}
	hash := func(name string) string {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(name))
		return hex.EncodeToString(mac.Sum(nil)[:16])
	}
	p := &Payload{
		SchemaVersion: SchemaVersion,
		AuditID:       r.AuditID,
		AgentVersion:  sanitizeVersion(r.Agent.Version),
		StartedAt:     r.StartedAt.UTC().Format(time.RFC3339),
		DurationMS:    max(r.DurationMS, 0),
		Host: PayloadHost{
			OS:            enumOrOther(r.Host.OS, knownOS),
			Arch:          optionalEnum(r.Host.Arch, knownArch),
			Distro:        optionalEnum(r.Host.Distro, knownDistros),
			DistroVersion: versionOrEmpty(r.Host.DistroVersion),
			Kernel:        versionOrEmpty(r.Host.Kernel),
			Live:          r.Host.Live,
		},
		Results: make([]PayloadResult, 0, len(r.Results)),
	}
	for _, res := range r.Results {
		entry, ok := cat.Lookup(res.ID)
		if !ok {
			return nil, fmt.Errorf("build payload: result for unknown check %q", res.ID)
		}
		pr := PayloadResult{ID: entry.ID, Status: res.Status, Severity: res.Severity, Reason: res.Reason}
		if res.Status == StatusPass || res.Status == StatusFail {
			pr.Reason = ""
		}
		for k, v := range res.Facts {
			schema, declared := entry.Facts[k]
			if !declared {
				p.DroppedFacts++
				continue
			}
			norm, err := schema.Normalize(v, hash)
			if err != nil {
				p.DroppedFacts++
				continue
			}
			if pr.Facts == nil {
				pr.Facts = map[string]any{}
			}
			pr.Facts[k] = norm
		}
		p.Results = append(p.Results, pr)
	}
	summary := Summarize(r.Results)
	p.Score, p.Grade = summary.Score, summary.Grade
	if err := p.Validate(cat); err != nil {
		return nil, fmt.Errorf("build payload: %w", err)
	}
	return p, nil
}

// Validate checks every field of a payload against the wire grammar and the catalog and
// rewrites fact values into their normal form (int64, []int64, []string). It is what the
// server runs on every upload and what the agent runs on its own payload before writing it.
func (p *Payload) Validate(cat *catalog.Catalog) error {
	if p.SchemaVersion != SchemaVersion {
		return fmt.Errorf("unsupported schema_version %d", p.SchemaVersion)
	}
	if !auditIDPattern.MatchString(p.AuditID) {
		return errors.New("audit_id is not a UUIDv7")
	}
	if !catalog.VersionPattern.MatchString(p.AgentVersion) {
		return errors.New("agent_version is not a version")
	}
	if !timestampPattern.MatchString(p.StartedAt) {
		return errors.New("started_at is not an RFC 3339 UTC timestamp")
	}
	if _, err := time.Parse(time.RFC3339, p.StartedAt); err != nil {
		return errors.New("started_at is not a valid time")
	}
	if p.DurationMS < 0 {
		return errors.New("duration_ms is negative")
	}
	if p.DroppedFacts < 0 {
		return errors.New("dropped_facts is negative")
	}
	h := p.Host
	if !slices.Contains(knownOS, h.OS) && h.OS != catalog.OtherValue {
		return errors.New("host.os is not a known value")
	}
	for _, f := range [...]struct {
		name, value string
		known       []string
	}{{"arch", h.Arch, knownArch}, {"distro", h.Distro, knownDistros}} {
		if f.value != "" && f.value != catalog.OtherValue && !slices.Contains(f.known, f.value) {
			return fmt.Errorf("host.%s is not a known value", f.name)
		}
	}
	for _, f := range [...]struct{ name, value string }{{"distro_version", h.DistroVersion}, {"kernel", h.Kernel}} {
		if f.value != "" && !catalog.VersionPattern.MatchString(f.value) {
			return fmt.Errorf("host.%s is not a version", f.name)
		}
	}
	if !slices.Contains(score.Grades(), p.Grade) {
		return errors.New("grade is not a known value")
	}
	if p.Score < 0 || p.Score > 100 {
		return errors.New("score out of range")
	}
	if len(p.Results) > MaxResults {
		return fmt.Errorf("more than %d results", MaxResults)
	}
	seen := make(map[string]bool, len(p.Results))
	for i := range p.Results {
		res := &p.Results[i]
		entry, ok := cat.Lookup(res.ID)
		if !ok {
			return fmt.Errorf("results[%d]: unknown check id", i)
		}
		if seen[res.ID] {
			return fmt.Errorf("results[%d]: duplicate check id %s", i, res.ID)
		}
		seen[res.ID] = true
		if !res.Status.Valid() {
			return fmt.Errorf("result %s: unknown status", res.ID)
		}
		if !res.Severity.Valid() {
			return fmt.Errorf("result %s: unknown severity", res.ID)
		}
		switch res.Status {
		case StatusPass, StatusFail:
			if res.Reason != "" {
				return fmt.Errorf("result %s: reason given for status %s", res.ID, res.Status)
			}
		default:
			if !res.Reason.Valid() {
				return fmt.Errorf("result %s: unknown or missing reason", res.ID)
			}
		}
		for k, v := range res.Facts {
			schema, declared := entry.Facts[k]
			if !declared {
				return fmt.Errorf("result %s: undeclared fact", res.ID)
			}
			norm, err := schema.ValidateWire(v)
			if err != nil {
				return fmt.Errorf("result %s: fact %s: %w", res.ID, k, err)
			}
			res.Facts[k] = norm
		}
	}
	return nil
}

// DecodePayload reads a JSON payload strictly (unknown fields, trailing data and
// non-integer numbers are errors) and validates it.
func DecodePayload(r io.Reader, cat *catalog.Catalog) (*Payload, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var p Payload
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode payload: trailing data after the JSON object")
	}
	if err := p.Validate(cat); err != nil {
		return nil, fmt.Errorf("validate payload: %w", err)
	}
	return &p, nil
}

// Marshal encodes the payload as compact JSON with a trailing newline, the exact bytes an
// upload sends (before compression).
func (p *Payload) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return buf.Bytes(), nil
}

// NewAuditID returns a UUIDv7 (RFC 9562) for an audit started at t.
func NewAuditID(t time.Time) (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[6:]); err != nil {
		return "", fmt.Errorf("generate audit id: %w", err)
	}
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(u[0:6], ms[2:8])
	u[6] = 0x70 | (u[6] & 0x0f)
	u[8] = 0x80 | (u[8] & 0x3f)
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

func enumOrOther(v string, known []string) string {
	if slices.Contains(known, v) {
		return v
	}
	return catalog.OtherValue
}

func optionalEnum(v string, known []string) string {
	if v == "" {
		return ""
	}
	return enumOrOther(v, known)
}

func versionOrEmpty(v string) string {
	if catalog.VersionPattern.MatchString(v) {
		return v
	}
	return ""
}

func sanitizeVersion(v string) string {
	if catalog.VersionPattern.MatchString(v) {
		return v
	}
	return "unknown"
}
