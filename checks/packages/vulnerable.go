package packages

import (
	"context"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/packages/pkgdb"
	"github.com/securecodehq/server-audit/checks/packages/vulndata"
	"github.com/securecodehq/server-audit/pkg/report"
)

// vulnerableVersions: installed versions the curated list knows to be vulnerable, judged with
// the distribution's own fixed version and version ordering so that backported fixes count.
func vulnerableVersions(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	inv, _ := f.inv.Get(ctx, h)
	if inv.osErr != nil {
		return checks.FromError("read os-release", inv.osErr), nil
	}
	if inv.dbErr != nil {
		return checks.FromError("read the package database", inv.dbErr), nil
	}
	data, err := vulndata.Load()
	if err != nil {
		return checks.Error(report.ReasonInternal, "the embedded vulnerability data is invalid: %v", err), nil
	}
	findings := findVulnerable(data, inv.db, inv.target)
	ev := &vulndata.Evaluator{FS: h.FS()}
	res := vulndata.Result(ev.Assess(findings), "the installed packages")
	day, _ := data.Day()
	age := daysBetween(day, f.now().UTC())
	res = res.Enum("distro", distroEnum(inv.os.ID)).
		Int("applicable_entries", int64(data.Applicable(inv.target))).
		Int("installed_packages", int64(len(inv.db.Packages))).
		Version("data_version", data.Version).Int("data_age_days", clampDays(age)).
		Detail("vulnerability data %s of %s (%d days old), %d entries apply to %s %s", data.Version, data.Date, age, data.Applicable(inv.target), inv.os.ID, inv.os.VersionID)
	if inv.target.Family == "" {
		res = res.Detail("the data has no distribution entries for %s; only upstream ranges for non-distribution builds were checked", inv.os.ID)
	}
	return res, nil
}

// findVulnerable matches every installed package against the data.
func findVulnerable(data *vulndata.Data, db *pkgdb.DB, t vulndata.Target) []vulndata.Finding {
	watched := map[string]bool{}
	for _, n := range data.Packages() {
		watched[n] = true
	}
	var out []vulndata.Finding
	for _, p := range db.Packages {
		src, srcVersion := p.SourcePackage()
		if !watched[p.Name] && !watched[src] {
			continue
		}
		in := vulndata.Installed{Name: p.Name, Version: p.Version, Source: src}
		if srcVersion != p.Version {
			in.SourceVersion = srcVersion
		}
		out = append(out, data.Match(in, t, db.Compare)...)
	}
	return out
}
