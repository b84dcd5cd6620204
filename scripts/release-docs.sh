#!/bin/sh
# Writes the man pages (gzipped, reproducibly) and shell completions of both binaries into
# build/docs/<binary>/ for the release archives and packages. Run by .goreleaser.yaml's
# before hooks and by `make man`. Usage: scripts/release-docs.sh [YYYY-MM-DD]
set -eu
date="${1:-}"
out=build/docs
rm -rf "$out"
for bin in server-audit server-audit-api; do
	case "$bin" in
	server-audit) pkg=./agent/cmd/server-audit ;;
	*) pkg=./server/cmd/server-audit-api ;;
	esac
	go run "$pkg" gendocs --date "$date" "$out/$bin"
	gzip -9n "$out/$bin"/man1/*.1
done
