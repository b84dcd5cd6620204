package pkgdb

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// readDpkg reads dpkg's status database.
func readDpkg(fsys host.FS, path string) (*DB, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	installed, other, err := parseDpkgStatus(f, path)
	if err != nil {
		return nil, err
	}
	return &DB{Manager: Dpkg, Packages: installed, Other: other, Path: path}, nil
}

// dpkgStates maps the last word of dpkg's Status field ("want flag status") to whether the
// package counts as installed: its files are unpacked and it is configured, at most with
// triggers still to run.
func dpkgStates() map[string]bool {
	return map[string]bool{
		"installed": true, "triggers-awaited": true, "triggers-pending": true,
		"not-installed": false, "config-files": false, "half-installed": false,
		"unpacked": false, "half-configured": false,
	}
}

// dpkgStanza collects the fields of one stanza that the reader uses.
type dpkgStanza struct {
	line                               int // where the stanza starts
	pkg, status, version, arch, source string
	fields                             int
}

// parseDpkgStatus parses a dpkg status file (deb822 stanzas separated by blank lines;
// continuation lines start with a space or tab). It returns the installed packages and the
// entries in other states.
func parseDpkgStatus(r io.Reader, name string) (installed, other []Package, err error) {
	lr := newLineReader(r, name)
	states := dpkgStates()
	var st dpkgStanza
	finish := func() error {
		if st.fields == 0 {
			return nil
		}
		p, ok, err := st.pkgFor(states)
		if err != nil {
			return lr.errorfAt(st.line, "stanza of package %q: %s", st.pkg, err)
		}
		if ok {
			installed = append(installed, p)
		} else {
			other = append(other, p)
		}
		st = dpkgStanza{}
		return nil
	}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if err := finish(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if st.fields == 0 {
				return nil, nil, lr.errorf("continuation line outside a field")
			}
			continue // multi-line fields (Description, Conffiles) are not used
		}
		field, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(field) == 0 || bytes.ContainsAny(field, " \t") {
			return nil, nil, lr.errorf("expected \"Field: value\"")
		}
		if st.fields == 0 {
			st.line = lr.n
		}
		st.fields++
		// Field names are case-insensitive; only the five used fields are copied.
		var dst *string
		switch {
		case bytes.EqualFold(field, []byte("Package")):
			dst = &st.pkg
		case bytes.EqualFold(field, []byte("Status")):
			dst = &st.status
		case bytes.EqualFold(field, []byte("Version")):
			dst = &st.version
		case bytes.EqualFold(field, []byte("Architecture")):
			dst = &st.arch
		case bytes.EqualFold(field, []byte("Source")):
			dst = &st.source
		default:
			continue
		}
		*dst = string(bytes.TrimSpace(value))
	}
	if err := finish(); err != nil {
		return nil, nil, err
	}
	return installed, other, nil
}

// pkgFor builds the Package of a stanza and tells whether it is installed.
func (st dpkgStanza) pkgFor(states map[string]bool) (Package, bool, error) {
	if st.pkg == "" {
		return Package{}, false, errors.New("no Package field")
	}
	words := strings.Fields(st.status)
	if len(words) != 3 {
		return Package{}, false, errors.New("the Status field is not \"want flag status\"")
	}
	ok, known := states[words[2]]
	if !known {
		return Package{}, false, errors.New("unknown status " + words[2])
	}
	if ok && st.version == "" {
		return Package{}, false, errors.New("installed package without Version")
	}
	p := Package{Name: st.pkg, Version: st.version, Arch: st.arch}
	if !ok || words[2] != "installed" {
		p.State = words[2]
	}
	if st.source != "" {
		src, ver, err := parseDpkgSource(st.source)
		if err != nil {
			return Package{}, false, err
		}
		if src != p.Name {
			p.Source = src
		}
		if ver != p.Version {
			p.SourceVersion = ver
		}
	}
	return p, ok, nil
}

// parseDpkgSource splits a Source field, "name" or "name (version)". A version equal to
// none is returned empty.
func parseDpkgSource(s string) (name, version string, err error) {
	name, rest, found := strings.Cut(s, " ")
	if !found {
		return name, "", nil
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 3 || rest[0] != '(' || rest[len(rest)-1] != ')' || strings.ContainsAny(rest[1:len(rest)-1], "() \t") {
		return "", "", errors.New("the Source field is not \"name (version)\"")
	}
	return name, rest[1 : len(rest)-1], nil
}
