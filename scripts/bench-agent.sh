#!/bin/sh
# Whole-process wall time and peak RSS of `server-audit run --dry-run` on this machine.
# Needs hyperfine and GNU time (apt-get install hyperfine time). Usage: scripts/bench-agent.sh [runs]
set -eu
runs=${1:-100}
bin=./bin/server-audit
cmd="$bin run --dry-run --fail-on none --config /dev/null"
[ -x "$bin" ] || { echo "build first: make build" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hyperfine --warmup 10 --runs "$runs" -N --export-json "$tmp/wall.json" "$cmd" >/dev/null
python3 - "$tmp/wall.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"wall  median {r['median']*1000:.1f} ms  mean {r['mean']*1000:.1f} ms  min {r['min']*1000:.1f} ms  max {r['max']*1000:.1f} ms  ({len(r['times'])} runs)")
PY

i=0
while [ "$i" -lt "$runs" ]; do
  /usr/bin/time -f %M $cmd >/dev/null 2>>"$tmp/rss" || true
  i=$((i + 1))
done
sort -n "$tmp/rss" | awk '{a[NR]=$1} END {printf "rss   median %.1f MB  min %.1f MB  max %.1f MB  (%d runs)\n", a[int((NR+1)/2)]/1024, a[1]/1024, a[NR]/1024, NR}'
