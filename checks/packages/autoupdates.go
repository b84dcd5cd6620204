package packages

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// autoUpdates: security fixes only help once installed; unattended installation closes the
// window between a fix's release and the next manual upgrade.
func autoUpdates(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	inv, _ := f.inv.Get(ctx, h)
	if inv.osErr != nil {
		return checks.FromError("read os-release", inv.osErr), nil
	}
	switch {
	case inv.debianLike():
		return unattendedUpgrades(ctx, f, h, inv)
	case inv.redHatLike():
		return dnfAutomatic(h, inv)
	case inv.os.ID == "alpine":
		return checks.Skip(report.ReasonNotSupported, "Alpine has no standard automatic update service (apk upgrade from cron is a local choice)").
			Enum("mechanism", "none"), nil
	}
	return checks.Skip(report.ReasonNotSupported, "automatic updates are evaluated for Debian, Ubuntu and the Red Hat family only").Enum("mechanism", "none"), nil
}

// periodicOn reads an APT::Periodic interval: a number of days (0 off) or "always".
func periodicOn(v string) bool {
	v = strings.TrimSpace(strings.ToLower(v))
	if v == "always" {
		return true
	}
	n, err := strconv.Atoi(v)
	return err == nil && n > 0
}

func unattendedUpgrades(ctx context.Context, f *family, h host.Host, inv *inventory) (checks.Result, error) {
	if inv.dbErr != nil {
		return checks.FromError("read the package database", inv.dbErr), nil
	}
	conf, _ := f.aptConf.Get(ctx, h)
	if conf.err != nil {
		return checks.FromError("read the apt configuration", conf.err), nil
	}
	installed := inv.installed("unattended-upgrades")
	enable := true
	if v, ok := conf.conf.get("APT::Periodic::Enable"); ok && strings.TrimSpace(v.value) == "0" {
		enable = false
	}
	uu, uuSet := conf.conf.get("APT::Periodic::Unattended-Upgrade")
	lists, listsSet := conf.conf.get("APT::Periodic::Update-Package-Lists")
	on := enable && uuSet && periodicOn(uu.value)
	var res checks.Result
	switch {
	case !installed:
		res = checks.Fail("unattended-upgrades is not installed: security updates wait for a manual upgrade")
	case !enable:
		res = checks.Fail("APT::Periodic::Enable is 0: apt's periodic jobs, unattended upgrades included, never run")
	case !on:
		res = checks.Fail("unattended-upgrades is installed but APT::Periodic::Unattended-Upgrade is not enabled")
	default:
		res = checks.Pass("unattended-upgrades installs updates (APT::Periodic::Unattended-Upgrade %q, %s)", uu.value, uu.where)
		if !listsSet || !periodicOn(lists.value) {
			res = res.Detail("APT::Periodic::Update-Package-Lists is not enabled: unattended-upgrades only sees updates when something else refreshes the lists")
		}
	}
	if uuSet {
		res = res.Detail("APT::Periodic::Unattended-Upgrade %q set at %s", uu.value, uu.where)
	}
	return res.Enum("mechanism", "unattended-upgrades").Bool("installed", installed).Bool("enabled", on).
		Bool("update_lists", listsSet && periodicOn(lists.value)), nil
}

// dnfTimers are the dnf-automatic timers; the -install one applies updates whatever
// automatic.conf says.
func dnfTimers() []string {
	return []string{"dnf-automatic.timer", "dnf-automatic-install.timer", "dnf5-automatic.timer"}
}

func dnfAutomatic(h host.Host, inv *inventory) (checks.Result, error) {
	fsys := h.FS()
	installed := inv.dbErr == nil && (inv.installed("dnf-automatic") || inv.installed("dnf5-plugin-automatic"))
	if inv.dbErr != nil && !errors.Is(inv.dbErr, fs.ErrNotExist) {
		return checks.FromError("read the package database", inv.dbErr), nil
	}
	var timer string
	for _, t := range dnfTimers() {
		for _, dir := range []string{"/etc/systemd/system/timers.target.wants/", "/usr/lib/systemd/system/timers.target.wants/"} {
			if _, err := fsys.Lstat(dir + t); err == nil && timer == "" {
				timer = t
			}
		}
	}
	apply := timer == "dnf-automatic-install.timer"
	applyFrom := ""
	for _, name := range []string{"/etc/dnf/automatic.conf", "/etc/dnf/dnf5-plugins/automatic.conf"} {
		data, err := host.ReadFileLimit(fsys, name, 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return checks.FromError("read "+name, err), nil
		}
		ini, err := parseINI(name, string(data))
		if err != nil {
			return checks.FromError("parse "+name, err), nil
		}
		v, set := ini["commands"]["apply_updates"]
		if b, ok := dnfBool(v, set); ok {
			applyFrom = name
			apply = apply || b
		}
	}
	var res checks.Result
	switch {
	case !installed && timer == "":
		res = checks.Fail("dnf-automatic is not installed: updates wait for a manual dnf upgrade")
	case timer == "":
		res = checks.Fail("dnf-automatic is installed but none of its timers is enabled")
	case !apply:
		res = checks.Fail("%s is enabled but apply_updates is not yes: updates are downloaded or reported, not installed", timer)
	default:
		res = checks.Pass("%s installs updates automatically", timer)
	}
	if applyFrom != "" {
		res = res.Detail("apply_updates read from %s", applyFrom)
	}
	return res.Enum("mechanism", "dnf-automatic").Bool("installed", installed).Bool("enabled", timer != "" && apply).
		Bool("update_lists", timer != ""), nil
}
