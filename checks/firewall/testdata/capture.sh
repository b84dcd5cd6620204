#!/bin/sh
# Regenerates the canned command outputs of the fixtures from the rulesets in rulesets/,
# loaded with the real tools into throwaway network namespaces (root needed). The machine's
# own ruleset is never touched: every command runs inside a namespace this script creates.
#
#   sudo sh testdata/capture.sh        (from checks/firewall)
set -eu
cd "$(dirname "$0")"
R=rulesets
F=fixtures
NS=sa-fw-capture-$$
ROOT=$(mktemp -d)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$ROOT"; }
trap cleanup EXIT

fresh() { ip netns del "$NS" 2>/dev/null || true; ip netns add "$NS"; }
in_ns() { ip netns exec "$NS" "$@"; }

# dump DIR: the five commands the collector runs.
dump() {
	mkdir -p "$F/$1/commands"
	in_ns nft -j list ruleset >"$F/$1/commands/nft.json"
	in_ns iptables-nft-save >"$F/$1/commands/iptables-nft-save.txt"
	in_ns ip6tables-nft-save >"$F/$1/commands/ip6tables-nft-save.txt"
	in_ns iptables-legacy-save >"$F/$1/commands/iptables-legacy-save.txt"
	in_ns ip6tables-legacy-save >"$F/$1/commands/ip6tables-legacy-save.txt"
}

fresh; in_ns nft -f $R/default-drop.nft; dump nft-default-drop
fresh; in_ns iptables-nft-restore <$R/accept-all.rules; dump accept-all
fresh; dump no-firewall
fresh; in_ns nft -f $R/mixed-nft.nft; in_ns iptables-legacy-restore <$R/mixed-legacy.rules; dump mixed-backends
fresh; in_ns iptables-nft-restore <$R/docker.rules; dump docker-host
fresh; in_ns nft -f $R/vpn-router.nft; dump vpn-router
fresh; in_ns nft -f $R/default-drop.nft; dump malformed
mkdir -p nft
fresh; in_ns nft -f $R/features.nft; in_ns nft -j list ruleset >nft/features.json
printf '{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "inet", "name": "filter"' \
	>$F/malformed/commands/nft.json

# ufw: enabled with a scratch copy of its configuration (--rootdir), so that neither the
# machine's /etc/ufw nor its ruleset changes.
mkdir -p "$ROOT/etc/default" "$ROOT/lib" "$ROOT/usr/share"
cp -a /etc/ufw "$ROOT/etc/" && cp /etc/default/ufw "$ROOT/etc/default/" && cp -a /lib/ufw "$ROOT/lib/"
cp -a /usr/share/ufw "$ROOT/usr/share/"
: >"$ROOT/sysctl.conf"
sed -i "s|^IPT_SYSCTL=.*|IPT_SYSCTL=$ROOT/sysctl.conf|; s|^IPV6=.*|IPV6=yes|" "$ROOT/etc/default/ufw"
sed -i 's|^ENABLED=.*|ENABLED=no|; s|^LOGLEVEL=.*|LOGLEVEL=low|' "$ROOT/etc/ufw/ufw.conf"
printf '*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n:ufw-user-forward - [0:0]\n:ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\nCOMMIT\n' >"$ROOT/etc/ufw/user.rules"
printf '*filter\n:ufw6-user-input - [0:0]\n:ufw6-user-output - [0:0]\n:ufw6-user-forward - [0:0]\n:ufw6-user-limit - [0:0]\n:ufw6-user-limit-accept - [0:0]\nCOMMIT\n' >"$ROOT/etc/ufw/user6.rules"
fresh
U="ip netns exec $NS ufw --rootdir=$ROOT --datadir=$ROOT"
$U allow 22/tcp >/dev/null
$U allow from 10.0.0.0/8 to any port 5432 proto tcp >/dev/null
$U limit 2222/tcp >/dev/null
$U allow 80,443/tcp >/dev/null
$U deny 3306 >/dev/null
$U allow in on eth1 to any port 8080 >/dev/null
yes | $U enable >/dev/null
dump ufw-nft
mkdir -p $F/ufw-nft/root/etc/ufw
cp "$ROOT/etc/ufw/user.rules" "$ROOT/etc/ufw/user6.rules" $F/ufw-nft/root/etc/ufw/

# The same ufw rules on the legacy backend, as an iptables 1.6 host (no -nft/-legacy
# variants) shows them; ufw there runs with IPV6=no, so ip6tables is empty.
LEGACY=$(in_ns iptables-nft-save)
fresh
printf '%s\n' "$LEGACY" | in_ns iptables-legacy-restore
mkdir -p $F/ufw-legacy/commands
in_ns iptables-legacy-save >$F/ufw-legacy/commands/iptables-save.txt
in_ns ip6tables-legacy-save >$F/ufw-legacy/commands/ip6tables-save.txt
