// Package pkgdb reads the installed-package database of an audited root without running a
// package manager: dpkg (/var/lib/dpkg/status), apk (/lib/apk/db/installed) and rpm (the
// SQLite and Berkeley DB databases, with pure-Go readers so the agent stays static).
package pkgdb

import (
	"errors"

	"github.com/securecodehq/server-audit/checks/host"
)

// Manager names a package database format.
type Manager string

// Managers.
const (
	Dpkg Manager = "dpkg"
	RPM  Manager = "rpm"
	APK  Manager = "apk"
)

// Package is one installed package.
type Package struct {
	// Name is the binary package name.
	Name string
	// Version is the full version in the manager's own syntax: dpkg "[epoch:]upstream[-revision]",
	// rpm "[epoch:]version-release", apk "version-rN".
	Version string
	// Arch is the architecture ("amd64", "x86_64", "noarch"), when recorded.
	Arch string
	// Source and SourceVersion name the source package (dpkg Source field, rpm SOURCERPM)
	// when it differs from Name/Version; empty otherwise.
	Source        string
	SourceVersion string
}

// DB is an installed-package database.
type DB struct {
	Manager  Manager
	Packages []Package
}

// ErrNoDatabase is returned by Read when the root has no package database it knows.
var ErrNoDatabase = errors.New("no dpkg, rpm or apk database found")

// Read detects and reads the package database of fsys. Malformed or truncated databases are
// errors wrapping checks.ErrParse.
func Read(fsys host.FS) (*DB, error) { return nil, errors.New("pkgdb.Read: not implemented yet") }

// Lookup returns the installed packages called name (several for multi-arch or multilib).
func (db *DB) Lookup(name string) []Package { return nil }

// Compare orders two versions with the rules of db's manager.
func (db *DB) Compare(a, b string) int { panic("pkgdb.Compare: not implemented yet") }
