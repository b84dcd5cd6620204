// Package pkgdb reads the installed-package database of an audited root without running a
// package manager: dpkg (/var/lib/dpkg/status), apk (/lib/apk/db/installed) and rpm (the
// SQLite and Berkeley DB databases, with pure-Go readers so the agent stays static).
//
// The readers are read-only and bounded: text databases are streamed with a size and a
// line-length cap, binary databases are read page by page through a small read-ahead window,
// and every malformed or truncated input is an error wrapping checks.ErrParse that says where
// it broke, never a panic or an endless loop.
//
// Limits: rpm's NDB format (SUSE's Packages.db) is not read (Read returns an error wrapping
// errors.ErrUnsupported); for SQLite, committed WAL frames are applied as SQLite itself would,
// while a hot rollback journal is ignored; Berkeley DB off-page duplicates and encrypted
// databases are refused (rpm uses neither).
package pkgdb

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/osrelease"
	"github.com/securecodehq/server-audit/checks/packages/apkver"
	"github.com/securecodehq/server-audit/checks/packages/dpkgver"
	"github.com/securecodehq/server-audit/checks/packages/rpmver"
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
	// State is dpkg's status word ("config-files", "half-installed", "unpacked",
	// "half-configured", "triggers-awaited", "triggers-pending", "not-installed") when it is
	// not plain "installed"; empty for installed packages and for rpm and apk.
	State string
}

// SourcePackage returns the source package's name and version, falling back to the binary
// package's own name and version where the database records no difference.
func (p Package) SourcePackage() (name, version string) {
	name, version = p.Source, p.SourceVersion
	if name == "" {
		name = p.Name
	}
	if version == "" {
		version = p.Version
	}
	return name, version
}

// DB is an installed-package database.
type DB struct {
	Manager Manager
	// Packages are the installed packages in database order (dpkg and apk file order, rpm
	// header number). For dpkg they are the packages whose files are unpacked and configured:
	// status installed, triggers-awaited or triggers-pending, whatever the selection (held
	// packages included). rpm's gpg-pubkey pseudo packages are left out.
	Packages []Package
	// Other holds dpkg entries in any other state (removed with configuration files kept,
	// half-installed, unpacked but not configured...), with Package.State set. Empty for rpm
	// and apk, which record installed packages only.
	Other []Package
	// Path is the database file that was read, as named inside the audited root.
	Path string
}

// ErrNoDatabase is returned by Read when the root has no package database it knows. It
// wraps fs.ErrNotExist, so checks.Classify reports it as a skip (not_found).
var ErrNoDatabase = fmt.Errorf("no dpkg, rpm or apk database found: %w", fs.ErrNotExist)

// candidate is a database file Read looks for, in preference order within its manager.
type candidate struct {
	manager Manager
	path    string
	read    func(fsys host.FS, path string) (*DB, error)
}

// candidates lists the known database locations. rpm's dbpath is /var/lib/rpm on RHEL and
// its rebuilds, /usr/lib/sysimage/rpm on Fedora 36+ and SUSE (with /var/lib/rpm a symlink to
// it); SQLite is preferred to a leftover Berkeley DB after an upgrade.
func candidates() []candidate {
	return []candidate{
		{Dpkg, "/var/lib/dpkg/status", readDpkg},
		{RPM, "/var/lib/rpm/rpmdb.sqlite", readRPMSQLite},
		{RPM, "/usr/lib/sysimage/rpm/rpmdb.sqlite", readRPMSQLite},
		{RPM, "/var/lib/rpm/Packages", readRPMBerkeley},
		{RPM, "/usr/lib/sysimage/rpm/Packages", readRPMBerkeley},
		{RPM, "/var/lib/rpm/Packages.db", readRPMNDB},
		{RPM, "/usr/lib/sysimage/rpm/Packages.db", readRPMNDB},
		{APK, "/lib/apk/db/installed", readAPK},
		{APK, "/usr/lib/apk/db/installed", readAPK},
	}
}

// Read detects and reads the package database of fsys. When the root holds several kinds
// of database (an rpm database on a Debian host, say), the one matching os-release's ID or
// ID_LIKE wins, else the first found in the order dpkg, rpm, apk. No database is
// ErrNoDatabase; malformed or truncated databases are errors wrapping checks.ErrParse.
func Read(fsys host.FS) (*DB, error) {
	var found []candidate
	for _, c := range candidates() {
		if slices.ContainsFunc(found, func(f candidate) bool { return f.manager == c.manager }) {
			continue
		}
		_, err := fsys.Stat(c.path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			continue
		}
		// Any other error (permission, symlink loop) is the reader's to report.
		found = append(found, c)
	}
	if len(found) == 0 {
		return nil, ErrNoDatabase
	}
	chosen := found[0]
	if len(found) > 1 {
		if info, err := osrelease.Read(fsys); err == nil {
			if m, ok := managerFor(info); ok {
				if i := slices.IndexFunc(found, func(f candidate) bool { return f.manager == m }); i >= 0 {
					chosen = found[i]
				}
			}
		}
	}
	return chosen.read(fsys, chosen.path)
}

// managerFor maps a distribution to its native package manager by ID, then ID_LIKE.
func managerFor(info osrelease.Info) (Manager, bool) {
	for _, id := range append([]string{info.ID}, info.IDLike...) {
		switch strings.ToLower(id) {
		case "debian", "ubuntu":
			return Dpkg, true
		case "alpine":
			return APK, true
		case "rhel", "fedora", "centos", "rocky", "almalinux", "amzn", "ol", "suse", "opensuse", "sles":
			return RPM, true
		}
	}
	return "", false
}

// Lookup returns the installed packages called name (several for multi-arch or multilib).
func (db *DB) Lookup(name string) []Package {
	var out []Package
	for _, p := range db.Packages {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// Compare orders two versions with the rules of db's manager: -1, 0 or +1 as a is lower
// than, equal to or higher than b. A DB with an unknown Manager orders them bytewise.
func (db *DB) Compare(a, b string) int {
	switch db.Manager {
	case Dpkg:
		return dpkgver.Compare(a, b)
	case RPM:
		return rpmver.Compare(a, b)
	case APK:
		return apkver.Compare(a, b)
	}
	return strings.Compare(a, b)
}
