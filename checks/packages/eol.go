package packages

import (
	"context"
	"strings"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// eolDataDate is the day the end-of-life table was last checked.
const eolDataDate = "2026-11-29"

// eolRelease is one release's support window. Standard is the end of the distribution's
// regular security support; Extended the end of its longest security programme (Debian LTS,
// Ubuntu Pro ESM, RHEL ELS, Amazon Linux maintenance). Releases without one repeat Standard.
type eolRelease struct {
	ids      []string // os-release IDs sharing these dates
	release  string   // VERSION_ID prefix: "12", "22.04", "9", "3.19"
	standard string
	extended string
	// extendedName names the extended programme for messages.
	extendedName string
}

// eolTable is the embedded end-of-life table. Dates are the vendors' published ends
// (Debian security team and LTS pages, Ubuntu release cycle, Red Hat life cycle, Rocky and
// AlmaLinux release pages, Amazon Linux FAQs, Alpine releases, Fedora schedules), as
// collected on eolDataDate; where a vendor gives only a month, the last day of it.
func eolTable() []eolRelease {
	deb := []string{"debian"}
	ubu := []string{"ubuntu"}
	el := []string{"rhel"}
	rebuild := []string{"rocky", "almalinux"}
	return []eolRelease{
		{deb, "9", "2020-07-06", "2022-06-30", "Debian LTS"},
		{deb, "10", "2022-09-10", "2024-06-30", "Debian LTS"},
		{deb, "11", "2024-08-14", "2026-08-31", "Debian LTS"},
		{deb, "12", "2026-06-10", "2028-06-30", "Debian LTS"},
		{deb, "13", "2028-08-09", "2030-06-30", "Debian LTS"},
		{ubu, "16.04", "2021-04-30", "2026-04-30", "Ubuntu Pro ESM"},
		{ubu, "18.04", "2023-05-31", "2028-05-31", "Ubuntu Pro ESM"},
		{ubu, "20.04", "2025-05-31", "2030-05-31", "Ubuntu Pro ESM"},
		{ubu, "22.04", "2027-06-01", "2032-06-01", "Ubuntu Pro ESM"},
		{ubu, "23.10", "2024-07-11", "2024-07-11", ""},
		{ubu, "24.04", "2029-05-31", "2034-04-25", "Ubuntu Pro ESM"},
		{ubu, "24.10", "2025-07-10", "2025-07-10", ""},
		{ubu, "25.04", "2026-01-15", "2026-01-15", ""},
		{ubu, "25.10", "2026-07-09", "2026-07-09", ""},
		{ubu, "26.04", "2031-05-31", "2036-04-30", "Ubuntu Pro ESM"},
		{el, "7", "2024-06-30", "2028-06-30", "RHEL Extended Life Cycle Support"},
		{el, "8", "2029-05-31", "2032-05-31", "RHEL Extended Life Cycle Support"},
		{el, "9", "2032-05-31", "2035-05-31", "RHEL Extended Life Cycle Support"},
		{el, "10", "2035-05-31", "2038-05-31", "RHEL Extended Life Cycle Support"},
		{rebuild, "8", "2029-05-31", "2029-05-31", ""},
		{rebuild, "9", "2032-05-31", "2032-05-31", ""},
		{rebuild, "10", "2035-05-31", "2035-05-31", ""},
		{[]string{"centos"}, "7", "2024-06-30", "2024-06-30", ""},
		{[]string{"centos"}, "8", "2021-12-31", "2021-12-31", ""},
		{[]string{"centos"}, "9", "2027-05-31", "2027-05-31", ""},
		{[]string{"centos"}, "10", "2030-01-01", "2030-01-01", ""},
		{[]string{"amzn"}, "2", "2026-06-30", "2026-06-30", ""},
		{[]string{"amzn"}, "2023", "2027-06-30", "2029-06-30", "Amazon Linux maintenance support"},
		{[]string{"alpine"}, "3.17", "2024-11-22", "2024-11-22", ""},
		{[]string{"alpine"}, "3.18", "2025-05-09", "2025-05-09", ""},
		{[]string{"alpine"}, "3.19", "2025-11-01", "2025-11-01", ""},
		{[]string{"alpine"}, "3.20", "2026-04-01", "2026-04-01", ""},
		{[]string{"alpine"}, "3.21", "2026-11-01", "2026-11-01", ""},
		{[]string{"alpine"}, "3.22", "2027-05-01", "2027-05-01", ""},
		{[]string{"alpine"}, "3.23", "2027-11-01", "2027-11-01", ""},
		{[]string{"fedora"}, "39", "2024-11-26", "2024-11-26", ""},
		{[]string{"fedora"}, "40", "2025-05-13", "2025-05-13", ""},
		{[]string{"fedora"}, "41", "2025-12-15", "2025-12-15", ""},
		{[]string{"fedora"}, "42", "2026-05-13", "2026-05-13", ""},
		{[]string{"fedora"}, "43", "2026-12-09", "2026-12-09", ""},
	}
}

// lookupEOL finds the release of id and versionID in the table: Debian, RHEL and its
// rebuilds, CentOS, Amazon Linux and Fedora by major version; Ubuntu and Alpine by
// major.minor.
func lookupEOL(id, versionID string) (eolRelease, bool) {
	release := versionID
	switch id {
	case "ubuntu", "alpine":
		parts := strings.SplitN(versionID, ".", 3)
		if len(parts) >= 2 {
			release = parts[0] + "." + parts[1]
		}
	default:
		release, _, _ = strings.Cut(versionID, ".")
	}
	for _, r := range eolTable() {
		if r.release != release {
			continue
		}
		for _, rid := range r.ids {
			if rid == id {
				return r, true
			}
		}
	}
	return eolRelease{}, false
}

// distroEOL: a release past its end of support gets no more security fixes, whatever the
// other checks say.
func distroEOL(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	inv, _ := f.inv.Get(ctx, h)
	if inv.osErr != nil {
		return checks.FromError("read os-release", inv.osErr), nil
	}
	distro := distroEnum(inv.os.ID)
	r, ok := lookupEOL(inv.os.ID, inv.os.VersionID)
	if !ok {
		return checks.Skip(report.ReasonNotSupported, "the end-of-life table has no entry for %s %s", inv.os.ID, inv.os.VersionID).
			Enum("distro", distro).Detail("end-of-life table checked on %s", eolDataDate), nil
	}
	std, _ := time.Parse(time.DateOnly, r.standard)
	ext, _ := time.Parse(time.DateOnly, r.extended)
	now := f.now().UTC()
	stdLeft, extLeft := daysBetween(now, std), daysBetween(now, ext)
	name := strings.TrimSpace(inv.os.PrettyName)
	if name == "" {
		name = inv.os.ID + " " + inv.os.VersionID
	}
	var res checks.Result
	switch {
	case !now.Before(ext):
		res = checks.Fail("%s reached the end of all security support on %s (%d days ago)", name, r.extended, -extLeft).Enum("triggered", "extended")
	case !now.Before(std):
		res = checks.Fail("%s reached the end of standard security support on %s (%d days ago)", name, r.standard, -stdLeft).
			Enum("triggered", "standard").WithSeverity(catalog.SeverityHigh)
		if r.extendedName != "" {
			res = res.Detail("%s continues until %s (%d days left); packages come from that programme's repositories only when it is configured", r.extendedName, r.extended, extLeft)
		}
	default:
		res = checks.Pass("%s has standard security support until %s (%d days left)", name, r.standard, stdLeft).Enum("triggered", "none")
		if r.extendedName != "" {
			res = res.Detail("%s continues until %s", r.extendedName, r.extended)
		}
	}
	return res.Enum("distro", distro).Version("version", inv.os.VersionID).
		Int("standard_days_left", clampDays(stdLeft)).Int("extended_days_left", clampDays(extLeft)).
		Detail("end-of-life table checked on %s", eolDataDate), nil
}

// clampDays keeps day counts within the range the catalog declares.
func clampDays(d int64) int64 { return max(-36500, min(36500, d)) }
