// Package packages holds the installed-package checks: distribution end of life, curated
// vulnerable versions (compared with the distribution's fixed package version by its own
// ordering rules), pending security updates, automatic updates, reboot required, security
// repositories, signature checking and legacy insecure packages.
//
// Nothing here runs a package manager. The inventory comes from the package database on
// disk (pkgdb: dpkg, rpm, apk), the distribution from os-release, pending updates from the
// local apt lists (never refreshed: checks have no side effects), settings from the
// package managers' configuration files.
//
// Facts never carry the inventory: package names appear only when they are on the declared
// watch list or in the curated vulnerability data, next to versions, counts and day counts.
package packages

import (
	"context"
	"math"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// Checks returns every check of the family, in report order.
func Checks() []checks.Check { return checksAt(time.Now) }

// checksAt returns the checks with a clock (fixtures pin it: end-of-life dates and list
// ages are day counts from now).
func checksAt(now func() time.Time) []checks.Check {
	f := &family{
		now:     now,
		inv:     checks.NewMemo(collectInventory),
		sources: checks.NewMemo(collectSources),
		aptConf: checks.NewMemo(collectAptConf),
	}
	f.apt = checks.NewMemo(func(ctx context.Context, h host.Host) (*aptState, error) {
		inv, err := f.inv.Get(ctx, h)
		if err != nil {
			return nil, err
		}
		return collectAptLists(ctx, h, inv)
	})
	return []checks.Check{
		check{f, "packages.distro-eol", distroEOL},
		check{f, "packages.vulnerable-versions", vulnerableVersions},
		check{f, "packages.security-updates", securityUpdates},
		check{f, "packages.auto-updates", autoUpdates},
		check{f, "packages.reboot-required", rebootRequired},
		check{f, "packages.security-repository", securityRepository},
		check{f, "packages.signature-checking", signatureChecking},
		check{f, "packages.legacy-insecure", legacyInsecure},
	}
}

// family is what the checks share: the clock and the per-host state, each part computed
// once and only when a check asks for it.
type family struct {
	now     func() time.Time
	inv     *checks.Memo[*inventory]
	apt     *checks.Memo[*aptState]
	sources *checks.Memo[*sourcesState]
	aptConf *checks.Memo[*aptConfState]
}

// check is one check of the family.
type check struct {
	f    *family
	id   string
	eval func(ctx context.Context, f *family, h host.Host) (checks.Result, error)
}

// ID implements checks.Check.
func (c check) ID() string { return c.id }

// Run implements checks.Check.
func (c check) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	return c.eval(ctx, c.f, h)
}

// daysBetween counts whole days from a to b, rounded down (negative when b is before a).
func daysBetween(a, b time.Time) int64 {
	return int64(math.Floor(b.Sub(a).Hours() / 24))
}
