// Package catalog holds the description of every check: its ID, title, severity, rationale,
// remediation, references and the schema of the facts it may send. The catalog is data,
// shared by the agent and the server, so that titles, fixes and the redaction grammar are
// defined once.
//
// catalog.yaml is the source people edit. `go generate ./pkg/catalog` writes catalog.json
// from it, which is what the binary embeds: decoding JSON takes a fraction of the time YAML
// takes, and every run loads the catalog. A test fails when the two disagree.
package catalog

//go:generate go run ./internal/gencatalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed catalog.json
var embedded []byte

// Entry describes one check.
type Entry struct {
	// ID is "<family>.<slug>"; it is stable and never reused.
	ID string `yaml:"id" json:"id"`
	// Title is a one-line statement of the desired state ("ASLR is fully enabled").
	Title string `yaml:"title" json:"title"`
	// Severity is the weight of a failure of this check.
	Severity Severity `yaml:"severity" json:"severity"`
	// Live is true when the check can only evaluate the running system (procfs, sysfs,
	// processes); on an offline root it skips with reason not_live.
	Live bool `yaml:"live" json:"live"`
	// Rationale explains why the state matters.
	Rationale string `yaml:"rationale" json:"rationale"`
	// Remediation says how to reach the desired state.
	Remediation string `yaml:"remediation" json:"remediation"`
	// References cite benchmarks and prior art.
	References []Reference `yaml:"references" json:"references"`
	// Facts declares every fact key the check may send and its schema. Nothing else leaves
	// the machine.
	Facts map[string]FactSchema `yaml:"facts" json:"facts"`
}

// Family returns the family part of the ID ("ssh" for "ssh.permit-root-login").
func (e Entry) Family() string {
	family, _, _ := strings.Cut(e.ID, ".")
	return family
}

// Reference is a citation: a benchmark section or a document.
type Reference struct {
	// Title names the source, e.g. "CIS Ubuntu Linux 24.04 Benchmark v1.0.0, 1.5.1".
	Title string `yaml:"title" json:"title"`
	// URL links to it when the source is public.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
}

// Family describes a family of checks.
type Family struct {
	// Name is the ID prefix ("system").
	Name string `yaml:"name" json:"name"`
	// Title is the heading used in reports ("Kernel and accounts").
	Title string `yaml:"title" json:"title"`
}

// Catalog is the parsed catalog. Its zero value is empty; use Load.
type Catalog struct {
	// Version is the catalog format version.
	Version  int      `yaml:"version" json:"version"`
	Families []Family `yaml:"families" json:"families"`
	Checks   []Entry  `yaml:"checks" json:"checks"`

	byID map[string]int
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z0-9]+(-[a-z0-9]+)*$`)

var factKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Load parses the embedded catalog.
func Load() (*Catalog, error) {
	return ParseJSON(embedded)
}

// ParseJSON parses and validates the generated JSON form of the catalog.
func ParseJSON(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return decode(dec.Decode)
}

// EncodeJSON encodes the catalog as generated into catalog.json.
func (c *Catalog) EncodeJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode catalog: %w", err)
	}
	return buf.Bytes(), nil
}

// Parse parses and validates catalog YAML. Unknown keys are errors.
func Parse(data []byte) (*Catalog, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return decode(dec.Decode)
}

// decode reads a catalog with a strict decoder's Decode and validates it.
func decode(decodeInto func(any) error) (*Catalog, error) {
	var c Catalog
	if err := decodeInto(&c); err != nil {
		return nil, fmt.Errorf("parse catalog: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("validate catalog: %w", err)
	}
	return &c, nil
}

func (c *Catalog) validate() error {
	if c.Version != 1 {
		return fmt.Errorf("unsupported catalog version %d", c.Version)
	}
	families := map[string]bool{}
	for _, f := range c.Families {
		if f.Name == "" || f.Title == "" {
			return fmt.Errorf("family %q: name and title are required", f.Name)
		}
		if families[f.Name] {
			return fmt.Errorf("family %q declared twice", f.Name)
		}
		families[f.Name] = true
	}
	c.byID = make(map[string]int, len(c.Checks))
	for i := range c.Checks {
		e := &c.Checks[i]
		if !idPattern.MatchString(e.ID) {
			return fmt.Errorf("check %q: ID must look like family.slug", e.ID)
		}
		if _, dup := c.byID[e.ID]; dup {
			return fmt.Errorf("check %q declared twice", e.ID)
		}
		c.byID[e.ID] = i
		if !families[e.Family()] {
			return fmt.Errorf("check %q: family %q is not declared", e.ID, e.Family())
		}
		if !e.Severity.Valid() {
			return fmt.Errorf("check %q: invalid severity %q", e.ID, e.Severity)
		}
		if strings.TrimSpace(e.Title) == "" || strings.TrimSpace(e.Rationale) == "" || strings.TrimSpace(e.Remediation) == "" {
			return fmt.Errorf("check %q: title, rationale and remediation are required", e.ID)
		}
		if len(e.References) == 0 {
			return fmt.Errorf("check %q: at least one reference is required", e.ID)
		}
		for key, schema := range e.Facts {
			if !factKeyPattern.MatchString(key) {
				return fmt.Errorf("check %q: fact key %q must match %s", e.ID, key, factKeyPattern)
			}
			if err := schema.validate(); err != nil {
				return fmt.Errorf("check %q: fact %q: %w", e.ID, key, err)
			}
		}
	}
	return nil
}

// Lookup returns the entry of a check ID.
func (c *Catalog) Lookup(id string) (Entry, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Entry{}, false
	}
	return c.Checks[i], true
}

// HasFamily reports whether name is a declared family.
func (c *Catalog) HasFamily(name string) bool {
	for _, f := range c.Families {
		if f.Name == name {
			return true
		}
	}
	return false
}

// FamilyTitle returns the report heading of a family, or the name itself when undeclared.
func (c *Catalog) FamilyTitle(name string) string {
	for _, f := range c.Families {
		if f.Name == name {
			return f.Title
		}
	}
	return name
}

// IDs returns every check ID in sorted order.
func (c *Catalog) IDs() []string {
	ids := make([]string, 0, len(c.Checks))
	for _, e := range c.Checks {
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	return ids
}
