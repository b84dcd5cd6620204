// Package vulndata is the curated, offline list of known-vulnerable package versions that the
// packages, ssh and docker families compare installed versions with.
//
// The list is data (vulns.json, embedded), versioned and dated so that reports can say how
// old it is. Each entry names a CVE, a package and either one distribution release with the
// distribution's own fixed package version (compared with that distribution's ordering, so a
// backported fix counts as fixed), or "upstream" with an affected range of upstream versions
// that applies only to builds the distribution did not make (sshd built from source,
// nginx.org or Docker's own packages), or "any" with exact upstream versions that are bad in
// every build (the xz backdoor tarballs). An optional condition says when the flaw is
// actually reachable (a directive in use, a setuid bit); the caller evaluates it.
package vulndata

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

//go:embed vulns.json
var embedded []byte

// Distribution values with a special meaning.
const (
	// Upstream entries give an affected range of upstream versions for builds the
	// distribution did not make.
	Upstream = "upstream"
	// Any entries list exact upstream versions that are affected in every build.
	Any = "any"
)

// Data is the whole list.
type Data struct {
	// Version identifies this revision of the list ("2026.11.29").
	Version string `json:"version"`
	// Date is the day the list was last curated (YYYY-MM-DD).
	Date string `json:"date"`
	// Entries are the vulnerable versions.
	Entries []Entry `json:"entries"`
}

// Entry is one CVE in one package for one distribution release (or upstream range).
type Entry struct {
	// CVE is the identifier ("CVE-2024-6387").
	CVE string `json:"cve"`
	// Name is the flaw's nickname, when it has one ("regreSSHion").
	Name string `json:"name,omitempty"`
	// Package is the source package name as the distribution's tracker names it ("openssh",
	// "glibc"), or the upstream package name for non-distribution builds ("containerd.io").
	Package string `json:"package"`
	// Binaries, when set, limits the entry to these binary packages of the source (the flaw
	// is in sshd: openssh-server only).
	Binaries []string `json:"binaries,omitempty"`
	// Distribution is an os-release ID family ("debian", "ubuntu", "rhel", "alpine",
	// "fedora", "amzn"), Upstream or Any.
	Distribution string `json:"distribution"`
	// Release is the distribution release ("12", "22.04", "9"); empty for Upstream and Any.
	Release string `json:"release,omitempty"`
	// Introduced is the first affected version (Upstream ranges; optional elsewhere).
	Introduced string `json:"introduced,omitempty"`
	// Fixed is the first fixed version in the distribution's own syntax, or the first fixed
	// upstream version for Upstream entries.
	Fixed string `json:"fixed,omitempty"`
	// Versions lists the exact affected upstream versions of an Any entry.
	Versions []string `json:"versions,omitempty"`
	// Except lists distributions an Any entry does not apply to.
	Except []string `json:"except,omitempty"`
	// Severity is critical, high, medium or low.
	Severity string `json:"severity"`
	// Condition, when set, is what makes the flaw reachable (see Conditions).
	Condition string `json:"condition,omitempty"`
	// Source is the advisory or tracker page the fixed version was verified against.
	Source string `json:"source"`
	// Note says how the entry was verified or what to keep in mind.
	Note string `json:"note,omitempty"`
}

// Load parses the embedded list.
func Load() (*Data, error) { return Parse(embedded) }

var (
	cvePattern     = regexp.MustCompile(`^CVE-\d{4}-\d{4,7}$`)
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9.+~:_-]{1,64}$`)
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9.+_-]{0,63}$`)
)

// Parse decodes and validates a list. Every entry must be usable: a known distribution,
// severity and condition, a source, and a fixed version or an exact version list.
func Parse(data []byte) (*Data, error) {
	var d Data
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("parse vulnerability data: %w", err)
	}
	if d.Version == "" || !versionPattern.MatchString(d.Version) {
		return nil, fmt.Errorf("vulnerability data: version %q is missing or malformed", d.Version)
	}
	if _, err := d.Day(); err != nil {
		return nil, err
	}
	if len(d.Entries) == 0 {
		return nil, errors.New("vulnerability data: no entries")
	}
	for i, e := range d.Entries {
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("vulnerability data entry %d (%s %s): %w", i, e.CVE, e.Package, err)
		}
	}
	return &d, nil
}

// Day returns the curation date.
func (d *Data) Day() (time.Time, error) {
	t, err := time.Parse(time.DateOnly, d.Date)
	if err != nil {
		return time.Time{}, fmt.Errorf("vulnerability data: date %q: %w", d.Date, err)
	}
	return t, nil
}

func (e Entry) validate() error {
	if !cvePattern.MatchString(e.CVE) {
		return errors.New("malformed CVE id")
	}
	if !namePattern.MatchString(e.Package) {
		return errors.New("malformed package name")
	}
	for _, b := range e.Binaries {
		if !namePattern.MatchString(b) {
			return fmt.Errorf("malformed binary package name %q", b)
		}
	}
	switch e.Severity {
	case "critical", "high", "medium", "low":
	default:
		return fmt.Errorf("unknown severity %q", e.Severity)
	}
	if !strings.HasPrefix(e.Source, "https://") {
		return errors.New("source must be an https URL")
	}
	if e.Condition != "" {
		if _, err := ParseCondition(e.Condition); err != nil {
			return err
		}
	}
	for _, v := range append([]string{e.Fixed, e.Introduced}, e.Versions...) {
		if v != "" && !versionPattern.MatchString(v) {
			return fmt.Errorf("malformed version %q", v)
		}
	}
	switch e.Distribution {
	case Any:
		if len(e.Versions) == 0 || e.Fixed != "" || e.Release != "" {
			return errors.New(`"any" entries list exact versions and nothing else`)
		}
	case Upstream:
		if e.Fixed == "" || e.Release != "" {
			return errors.New("upstream entries need a fixed version and no release")
		}
	case "debian", "ubuntu", "rhel", "fedora", "amzn", "alpine", "sles":
		if e.Fixed == "" || e.Release == "" || len(e.Versions) > 0 {
			return errors.New("distribution entries need a release and a fixed version")
		}
	default:
		return fmt.Errorf("unknown distribution %q", e.Distribution)
	}
	return nil
}

// CVEs returns every CVE of the list, sorted and de-duplicated.
func (d *Data) CVEs() []string {
	var out []string
	for _, e := range d.Entries {
		out = append(out, e.CVE)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Packages returns every package name of the list (sources and binaries), sorted and
// de-duplicated.
func (d *Data) Packages() []string {
	var out []string
	for _, e := range d.Entries {
		out = append(out, e.Package)
		out = append(out, e.Binaries...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
