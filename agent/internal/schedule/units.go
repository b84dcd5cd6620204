package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Paths of the scheduled run, as seen on the audited host (relative to --root).
const (
	// StateDir is the agent's state directory (systemd StateDirectory=server-audit).
	StateDir = "/var/lib/server-audit"
	// ReportPath is where the scheduled run writes its local report (JSON, mode 0600);
	// `schedule status` reads the last run's score from it.
	ReportPath = StateDir + "/last-report.json"
	// SystemdDir holds the units `schedule install` writes. Packages ship the same units in
	// /usr/lib/systemd/system; units here take precedence.
	SystemdDir = "/etc/systemd/system"
	// ServiceName and TimerName are the unit names.
	ServiceName = "server-audit.service"
	// TimerName is the timer unit that starts ServiceName.
	TimerName = "server-audit.timer"
	// WantsDir is where enabling the timer links it (what `systemctl enable` does).
	WantsDir = SystemdDir + "/timers.target.wants"
	// CronPath is the cron entry `schedule install --method cron` writes.
	CronPath = "/etc/cron.d/server-audit"
)

// marker starts every file this package writes; remove deletes only files that carry it,
// so an administrator's own unit or cron entry of the same name is never deleted.
const marker = "# Written by `server-audit schedule install`"

// runArgs are the scheduled run's arguments. The token comes from the token file
// (/etc/server-audit/token, the run's default) and the configuration from
// /etc/server-audit/config.yaml: nothing secret is ever on a command line. The JSON report
// goes to ReportPath; stderr (one line with the score, upload messages) goes to the journal
// or to cron's mail.
var runArgs = []string{"run", "--output", "json", "--output-file", ReportPath}

// RunCommand is the scheduled command line for the binary at bin.
func RunCommand(bin string) string {
	return bin + " " + strings.Join(runArgs, " ")
}

// ServiceUnit is the hardened oneshot service that runs one audit. The packages ship it
// with bin /usr/bin/server-audit (see packaging/systemd, kept equal by a test).
//
// Hardening, and why each relaxation exists (docs/deploy.md has the long form):
//   - root, but with a capability bounding set of what the checks need: reading root-only
//     files (CAP_DAC_READ_SEARCH; CAP_DAC_OVERRIDE to connect to rootless Docker sockets
//     owned by other users), the firewall ruleset over netlink and iptables' raw sockets
//     (CAP_NET_ADMIN, CAP_NET_RAW), and other users' /proc/<pid>/fd and exe to map listening
//     ports to programs (CAP_SYS_PTRACE).
//   - ProtectSystem=strict: everything read-only except the state directory.
//   - ProtectHome=read-only rather than yes: the ssh family reads root's home
//     (authorized_keys, host keys named relative to it) and rootless Docker sockets live
//     under /run/user.
//   - RestrictAddressFamilies keeps AF_NETLINK for nft and iptables-nft and AF_UNIX for the
//     Docker socket; AF_INET/AF_INET6 for the upload.
//   - Exit status 1 means "findings at or above fail_on": the run succeeded.
func ServiceUnit(bin string) string {
	return marker + `, or shipped by the package.
# Runs one audit; started by server-audit.timer. See server-audit(1), docs/deploy.md.
[Unit]
Description=server-audit security audit of this host
Documentation=man:server-audit(1)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=` + RunCommand(bin) + `
# 1 = findings at or above fail_on: the audit ran. A failed upload (3) stays a failure.
SuccessExitStatus=1
TimeoutStartSec=10min
StateDirectory=server-audit
StateDirectoryMode=0700
UMask=0077
Nice=10
IOSchedulingClass=idle

NoNewPrivileges=yes
CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_PTRACE
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
`
}

// TimerUnit is the timer for interval with a randomized delay (spreading a fleet's uploads).
// FixedRandomDelay keeps each host's offset stable, so runs stay one interval apart;
// Persistent catches up a run missed while the machine was off.
func TimerUnit(interval Interval, delay time.Duration) string {
	return marker + `, or shipped by the package.
# Not enabled by the package: run ` + "`server-audit schedule install`" + ` or
# ` + "`systemctl enable --now server-audit.timer`" + ` once /etc/server-audit/token exists.
[Unit]
Description=Run server-audit ` + string(interval) + `
Documentation=man:server-audit-schedule(1)

[Timer]
OnCalendar=` + string(interval) + `
RandomizedDelaySec=` + systemdDuration(delay) + `
FixedRandomDelay=yes
Persistent=true

[Install]
WantedBy=timers.target
`
}

// CronEntry is the /etc/cron.d entry for interval. Cron has no randomized delay, so the
// delay becomes a fixed per-host offset (derived from the machine ID) after the interval's
// start: minute, hour and weekday fields. The state directory is created first because the
// report is written there.
func CronEntry(bin string, interval Interval, offset time.Duration) string {
	return marker + `; remove with ` + "`server-audit schedule remove`" + `.
# Runs one audit ` + string(interval) + ` (offset ` + offset.String() + ` from the start of the interval).
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
` + cronSpec(interval, offset) + ` root umask 077 && mkdir -p ` + StateDir + ` && ` + RunCommand(bin) + ` >/dev/null
`
}

// cronSpec is the five time fields for interval shifted by offset (offset < interval).
func cronSpec(interval Interval, offset time.Duration) string {
	m := int(offset/time.Minute) % 60
	h := int(offset/time.Hour) % 24
	d := int(offset / (24 * time.Hour))
	switch interval {
	case Hourly:
		return fmt.Sprintf("%d * * * *", m)
	case Daily:
		return fmt.Sprintf("%d %d * * *", m, h)
	default: // weekly: systemd's "weekly" is Monday 00:00
		return fmt.Sprintf("%d %d * * %d", m, h, (1+d)%7)
	}
}

// systemdDuration formats d as a systemd time span ("15min", "1h 30min", "0").
func systemdDuration(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	var parts []string
	if h := d / time.Hour; h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		parts = append(parts, fmt.Sprintf("%dmin", m))
		d -= m * time.Minute
	}
	if s := d / time.Second; s > 0 {
		parts = append(parts, fmt.Sprintf("%ds", s))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}
