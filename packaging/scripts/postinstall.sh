#!/bin/sh
# Package post-install: make systemd see the shipped units. The timer is NOT enabled: it
# needs an upload token first (/etc/server-audit/token), then
# `server-audit schedule install` or `systemctl enable --now server-audit.timer`.
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
fi
exit 0
