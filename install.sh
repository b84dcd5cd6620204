#!/bin/sh
# Installs the server-audit agent from a release archive, verifying its SHA-256 checksum.
#
#   curl -fsSL https://github.com/securecodehq/server-audit/releases/latest/download/install.sh | sh
#   sh install.sh [--bin-dir DIR] [--with-timer] [--help]
#
# Environment:
#   SERVER_AUDIT_VERSION        version to install, "1.2.3" or "v1.2.3" (default: the latest)
#   SERVER_AUDIT_DOWNLOAD_BASE  where releases are downloaded from (default: GitHub releases).
#                               A mirror has the layout <base>/v<version>/<release files> and a
#                               file <base>/latest holding the latest version ("v1.2.3").
#
# The archive is checked against the release's checksums file, looked up by its exact file
# name; on a mismatch nothing is installed. The whole script runs from main, called on the
# last line, so a truncated download does nothing.
set -eu

github="https://github.com/securecodehq/server-audit/releases"

say() { printf 'server-audit install: %s\n' "$*" >&2; }
fail() {
	say "error: $*"
	exit 1
}

usage() {
	cat <<'EOF'
Usage: install.sh [--bin-dir DIR] [--with-timer]

Installs the server-audit binary (to /usr/local/bin as root, else ~/.local/bin).

  --bin-dir DIR   install into DIR instead
  --with-timer    also run `server-audit schedule install` (root only): a daily systemd
                  timer or cron entry that uploads with the token in /etc/server-audit/token

Environment: SERVER_AUDIT_VERSION (default: latest), SERVER_AUDIT_DOWNLOAD_BASE (a mirror
with <base>/latest and <base>/v<version>/...).
EOF
}

# detect_arch prints the release's name for this machine's architecture, or fails.
detect_arch() {
	os=$(uname -s)
	case "$os" in
	Linux) ;;
	*) fail "unsupported operating system: $os (server-audit runs on Linux only)" ;;
	esac
	machine=$(uname -m)
	case "$machine" in
	x86_64 | amd64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	armv7* | armv8l | armhf) arch=armv7 ;;
	i386 | i486 | i586 | i686) arch=386 ;;
	*) fail "unsupported architecture: $machine (releases exist for x86_64, aarch64, armv7 and i386)" ;;
	esac
	# A 32-bit ARM userland on a 64-bit kernel reports aarch64.
	if [ "$arch" = arm64 ] && [ "$(getconf LONG_BIT 2>/dev/null || echo 64)" = 32 ]; then
		arch=armv7
	fi
	printf '%s\n' "$arch"
}

# fetch URL FILE downloads URL into FILE with curl or wget.
fetch() {
	case "$1" in
	https://*) ;;
	http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;;
	*) fail "refusing to download over plain HTTP: $1 (use https, or a loopback mirror)" ;;
	esac
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --proto '=https,http' --retry 3 -o "$2" "$1" || fail "download failed: $1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1" || fail "download failed: $1"
	else
		fail "neither curl nor wget is installed"
	fi
}

# latest_version prints the latest release's tag.
latest_version() {
	if [ -n "${SERVER_AUDIT_DOWNLOAD_BASE:-}" ]; then
		fetch "$base/latest" "$tmp/latest"
		v=$(tr -d ' \r\n' <"$tmp/latest")
	elif command -v curl >/dev/null 2>&1; then
		# GitHub redirects releases/latest to releases/tag/<tag>.
		url=$(curl -fsSLI -o /dev/null -w '%{url_effective}' "$github/latest") || fail "cannot find the latest release"
		v=${url##*/}
	else
		url=$(wget -q -S --spider "$github/latest" 2>&1 | sed -n 's/^ *[Ll]ocation: *//p' | tail -n 1 | tr -d '\r')
		v=${url##*/}
	fi
	case "$v" in
	v[0-9]* | [0-9]*) printf '%s\n' "$v" ;;
	*) fail "cannot find the latest release (got \"$v\"); set SERVER_AUDIT_VERSION" ;;
	esac
}

# sha256 prints the SHA-256 of a file.
sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	else
		fail "neither sha256sum nor shasum is installed: cannot verify the download"
	fi
}

main() {
	bin_dir=""
	with_timer=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--bin-dir)
			[ $# -ge 2 ] || fail "--bin-dir needs a directory"
			bin_dir=$2
			shift 2
			;;
		--bin-dir=*)
			bin_dir=${1#--bin-dir=}
			shift
			;;
		--with-timer)
			with_timer=1
			shift
			;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			fail "unknown argument: $1"
			;;
		esac
	done

	uid=$(id -u)
	if [ -z "$bin_dir" ]; then
		if [ "$uid" = 0 ]; then
			bin_dir=/usr/local/bin
		else
			bin_dir="$HOME/.local/bin"
		fi
	fi
	if [ "$with_timer" = 1 ] && [ "$uid" != 0 ]; then
		fail "--with-timer needs root (it writes /etc/systemd/system or /etc/cron.d)"
	fi

	arch=$(detect_arch)
	base=${SERVER_AUDIT_DOWNLOAD_BASE:-$github/download}
	base=${base%/}

	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 130' INT TERM

	version=${SERVER_AUDIT_VERSION:-}
	if [ -z "$version" ]; then
		version=$(latest_version)
	fi
	version=${version#v}
	case "$version" in
	*/* | *' '* | '') fail "invalid version: \"$version\"" ;;
	esac

	archive="server-audit_${version}_linux_${arch}.tar.gz"
	sums="server-audit_${version}_checksums.txt"
	say "downloading server-audit $version for linux/$arch"
	fetch "$base/v$version/$sums" "$tmp/$sums"
	fetch "$base/v$version/$archive" "$tmp/$archive"

	# Exact file-name match: "<hash>  <name>" (or "<hash> *<name>"), never a substring.
	want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/$sums")
	[ -n "$want" ] || fail "$archive is not listed in $sums"
	got=$(sha256 "$tmp/$archive")
	if [ "$got" != "$want" ]; then
		fail "checksum mismatch for $archive: expected $want, got $got; nothing installed"
	fi

	mkdir "$tmp/x"
	tar -xzf "$tmp/$archive" -C "$tmp/x" --no-same-owner server-audit ||
		fail "cannot unpack $archive"
	[ -f "$tmp/x/server-audit" ] || fail "$archive has no server-audit binary"

	mkdir -p "$bin_dir" || fail "cannot create $bin_dir"
	# Copy beside the target, then rename: a running binary is replaced atomically.
	cp "$tmp/x/server-audit" "$bin_dir/.server-audit.new.$$" || fail "cannot write to $bin_dir"
	chmod 0755 "$bin_dir/.server-audit.new.$$"
	mv -f "$bin_dir/.server-audit.new.$$" "$bin_dir/server-audit" || fail "cannot install into $bin_dir"
	say "installed $bin_dir/server-audit ($("$bin_dir/server-audit" version))"

	case ":$PATH:" in
	*":$bin_dir:"*) ;;
	*) say "note: $bin_dir is not on PATH" ;;
	esac

	if [ "$with_timer" = 1 ]; then
		"$bin_dir/server-audit" schedule install || fail "schedule install failed"
		[ -f /etc/server-audit/token ] ||
			say "note: put the upload token in /etc/server-audit/token (mode 0600) before the first run"
	else
		say "next: server-audit run --dry-run    (schedule it: server-audit schedule install)"
	fi
}

main "$@"
