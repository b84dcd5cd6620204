#!/bin/sh
# Package pre-removal. On removal (not on upgrade) stop the packaged timer and remove a
# schedule written by `server-audit schedule install` (only files carrying its marker), so
# nothing keeps starting a binary that is gone. The state directory is kept.
# deb passes "remove" or "upgrade"; rpm passes the number of versions left (0 = erase).
set -e
case "${1:-}" in
remove | 0) ;;
*) exit 0 ;;
esac
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now server-audit.timer >/dev/null 2>&1 || true
fi
if [ -x /usr/bin/server-audit ]; then
	/usr/bin/server-audit schedule remove >/dev/null 2>&1 || true
fi
exit 0
