#!/bin/sh
# Whole-process wall time of `server-audit run --dry-run --only nginx,docker` against a
# private dockerd with 20 running containers. The daemon runs in a network namespace of its
# own, on its own socket and data root, so the machine's network and Docker are untouched.
# Needs root, dockerd (docker.io), busybox-static, hyperfine, ip, nsenter.
# Usage: scripts/bench-docker.sh [runs]
set -eu
runs=${1:-40}
bin=$(pwd)/bin/server-audit
[ -x "$bin" ] || { echo "build first: make build" >&2; exit 2; }
ns=sa-bench-$$
dir=$(mktemp -d)
sock=$dir/docker.sock
export DOCKER_HOST=unix://$sock

cleanup() {
  docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
  [ -f "$dir/docker.pid" ] && kill "$(cat "$dir/docker.pid")" 2>/dev/null || true
  sleep 2
  pkill -f "$dir" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  umount -R "$dir" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

ip netns add "$ns"
nsenter --net="/run/netns/$ns" ip link set lo up
nsenter --net="/run/netns/$ns" dockerd --host "$DOCKER_HOST" --data-root "$dir/data" \
  --exec-root "$dir/exec" --pidfile "$dir/docker.pid" >"$dir/dockerd.log" 2>&1 &
i=0
until docker version >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 120 ] || { cat "$dir/dockerd.log"; exit 1; }; sleep 0.5
done

mkdir -p "$dir/img/bin"
cp /bin/busybox "$dir/img/bin/"
ln -s busybox "$dir/img/bin/sh"; ln -s busybox "$dir/img/bin/sleep"
tar -C "$dir/img" -c . | docker import - sa-busybox:bench >/dev/null
i=0
while [ "$i" -lt 20 ]; do
  docker run -d --name "c$i" -e SA_BENCH=1 sa-busybox:bench sleep 3600 >/dev/null
  i=$((i + 1))
done
echo "containers running: $(docker ps -q | wc -l)"

hyperfine -N --warmup 5 --runs "$runs" --export-json "$dir/h.json" \
  "$bin run --dry-run --fail-on none --config /dev/null --only nginx,docker" \
  "$bin run --dry-run --fail-on none --config /dev/null --only docker" >/dev/null
python3 - "$dir/h.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command'].split('--only ')[1]:14} median {r['median']*1000:.1f} ms  min {r['min']*1000:.1f} ms  max {r['max']*1000:.1f} ms  ({len(r['times'])} runs)")
PY
"$bin" run --dry-run --fail-on none --config /dev/null --only docker -o json | python3 -c '
import json,sys; r=json.load(sys.stdin)
ex=[x for x in r["results"] if x["id"]=="docker.resource-limits"][0]
print("containers examined:", ex.get("facts",{}).get("examined"), "| docker checks:", len(r["results"]))'
