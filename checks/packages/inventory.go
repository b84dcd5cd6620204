package packages

import (
	"context"
	"slices"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/osrelease"
	"github.com/securecodehq/server-audit/checks/packages/pkgdb"
	"github.com/securecodehq/server-audit/checks/packages/vulndata"
)

// inventory is the distribution and the installed packages, read once per host.
type inventory struct {
	os    osrelease.Info
	osErr error
	// target is the distribution as the vulnerability data names it.
	target vulndata.Target
	db     *pkgdb.DB
	dbErr  error
	// byName indexes db.Packages by binary name.
	byName map[string][]pkgdb.Package
}

func collectInventory(_ context.Context, h host.Host) (*inventory, error) {
	inv := &inventory{}
	inv.os, inv.osErr = osrelease.Read(h.FS())
	if inv.osErr == nil {
		inv.target = vulndata.TargetOf(inv.os.ID, inv.os.IDLike, inv.os.VersionID)
	}
	inv.db, inv.dbErr = pkgdb.Read(h.FS())
	if inv.dbErr == nil {
		inv.byName = make(map[string][]pkgdb.Package, len(inv.db.Packages))
		for _, p := range inv.db.Packages {
			inv.byName[p.Name] = append(inv.byName[p.Name], p)
		}
	}
	return inv, nil
}

// lookup returns the installed packages called name.
func (inv *inventory) lookup(name string) []pkgdb.Package { return inv.byName[name] }

// installed reports whether a package called name is installed.
func (inv *inventory) installed(name string) bool { return len(inv.byName[name]) > 0 }

// debianLike reports whether the distribution is Debian, Ubuntu or a derivative.
func (inv *inventory) debianLike() bool {
	return inv.os.ID == "debian" || inv.os.ID == "ubuntu" || slices.Contains(inv.os.IDLike, "debian") || slices.Contains(inv.os.IDLike, "ubuntu")
}

// redHatLike reports whether the distribution is RHEL, a rebuild, Fedora or Amazon Linux.
func (inv *inventory) redHatLike() bool {
	switch inv.os.ID {
	case "rhel", "rocky", "almalinux", "centos", "fedora", "amzn", "ol":
		return true
	}
	return slices.Contains(inv.os.IDLike, "rhel") || slices.Contains(inv.os.IDLike, "fedora")
}

// distroEnum is the distribution ID sent as the distro fact; anything else is "other".
func distroEnum(id string) string {
	switch id {
	case "debian", "ubuntu", "rhel", "rocky", "almalinux", "centos", "ol", "amzn", "alpine", "fedora", "opensuse-leap", "sles", "arch":
		return id
	}
	return "other"
}
