#!/bin/sh
# Regenerates the canned Engine API answers (fixtures/*/docker-api/) and firewall outputs
# (fixtures/ufw-*/commands/) from Debian's dockerd, started on a private socket inside a
# throwaway network namespace (root needed). The machine's own dockerd, sockets and ruleset
# are never touched: dockerd runs with its own data and exec roots, its bridge and iptables
# rules live in the namespace, and ufw runs there with a scratch copy of its configuration.
#
#   sudo sh testdata/capture.sh        (from checks/docker)
#
# Every container carries an environment variable holding $SECRET: the answers contain it
# (as a real daemon's do), and TestFixturesNeverLeakEnv asserts no golden file does.
# After the capture, a few answers are edited (marked "edit:" below) to stand for daemons
# this machine cannot run: user-namespace remapping, a rootless daemon, Engine 27.
set -eu
cd "$(dirname "$0")"
F=fixtures
NS=sa-docker-capture-$$
T=$(mktemp -d /tmp/sa-docker-capture.XXXXXX)
SECRET=SA-PLANTED-SECRET-capture-7f3a9c
export DOCKER_HOST="unix://$T/docker.sock"

api() { curl -sf --unix-socket "$T/docker.sock" "http://docker$1"; }
pretty() { python3 -m json.tool --indent 1; }

start() {
	nsenter --net=/run/netns/$NS dockerd --data-root "$T/data" --exec-root "$T/exec" \
		--pidfile "$T/docker.pid" "$@" >"$T/dockerd.log" 2>&1 &
	for _ in $(seq 200); do
		api /_ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$T/dockerd.log"
	exit 1
}
stop() {
	[ -f "$T/docker.pid" ] || return 0
	pid=$(cat "$T/docker.pid")
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	rm -f "$T/docker.pid"
}
cleanup() {
	docker rm -f $(docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	stop
	ip netns del $NS 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# dump FIXTURE: every answer the collector asks for.
dump() {
	D=$F/$1/docker-api
	rm -rf "$D"
	mkdir -p "$D/containers" "$D/networks"
	api /_ping >"$D/_ping"
	api /version | pretty >"$D/version.json"
	api /info | pretty >"$D/info.json"
	api '/containers/json?all=1' | pretty >"$D/containers.json"
	for id in $(api '/containers/json?all=1' | python3 -c 'import json,sys; print(" ".join(c["Id"] for c in json.load(sys.stdin)))'); do
		api "/containers/$id/json" | pretty >"$D/containers/$id.json"
	done
	api /networks/bridge | pretty >"$D/networks/bridge.json"
	find "$D" -type f -exec sed -i "s|$T|/var/lib/sa-capture|g" {} +
}

# edit FIXTURE FILE PYTHON: change one answer (the expression sees the JSON as d).
edit() {
	python3 - "$F/$1/docker-api/$2" "$3" <<-'EOF'
		import json, sys
		path, expr = sys.argv[1], sys.argv[2]
		d = json.load(open(path))
		exec(expr)
		json.dump(d, open(path, "w"), indent=1)
		open(path, "a").write("\n")
	EOF
}

# fw FIXTURE: the five commands the firewall collector runs.
fw() {
	mkdir -p "$F/$1/commands"
	for cmd in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save; do
		nsenter --net=/run/netns/$NS $cmd >"$F/$1/commands/$cmd.txt"
	done
	nsenter --net=/run/netns/$NS nft -j list ruleset >"$F/$1/commands/nft.json"
}

ip netns add $NS
nsenter --net=/run/netns/$NS ip link set lo up

# A tiny image: busybox-static and a few links.
mkdir -p "$T/rootfs/bin" "$T/rootfs/etc" "$T/rootfs/tmp"
cp /bin/busybox "$T/rootfs/bin/"
for a in sh sleep httpd; do ln -s busybox "$T/rootfs/bin/$a"; done

# 1. risky-containers: the daemon's defaults and one container per risky setting.
start --host "unix://$T/docker.sock"
tar -C "$T/rootfs" -c . | docker import - sa-busybox:test >/dev/null
E="-e SA_TOKEN=$SECRET"
docker create --name privileged $E --privileged sa-busybox:test sleep 3600 >/dev/null
docker run -d --name socket $E -v "$T/docker.sock:/var/run/docker.sock" sa-busybox:test sleep 3600 >/dev/null
docker run -d --name etc-rw $E -v /etc:/host-etc sa-busybox:test sleep 3600 >/dev/null
docker run -d --name pid-host $E --pid host sa-busybox:test sleep 3600 >/dev/null
docker run -d --name sys-admin $E --cap-add SYS_ADMIN sa-busybox:test sleep 3600 >/dev/null
docker run -d --name seccomp-off $E --security-opt seccomp=unconfined sa-busybox:test sleep 3600 >/dev/null
docker run -d --name published $E -p 0.0.0.0:18080:80 sa-busybox:test sleep 3600 >/dev/null
docker run -d --name root-user $E --user 0 sa-busybox:test sleep 3600 >/dev/null
docker run -d --name hardened $E --read-only --user 1000 --memory 64m --pids-limit 64 --cap-drop ALL \
	--security-opt no-new-privileges sa-busybox:test sleep 3600 >/dev/null
docker create --name exited $E sa-busybox:test sleep 0 >/dev/null
docker start exited >/dev/null
docker wait exited >/dev/null
dump risky-containers # malformed-daemon-json serves these answers too

# 2. hardened: icc off, no-new-privileges, rotated logs; only the hardened container.
docker rm -f privileged socket etc-rw pid-host sys-admin seccomp-off published root-user exited >/dev/null
stop
start --host "unix://$T/docker.sock" --icc=false --no-new-privileges --log-opt max-size=10m --log-opt max-file=3
docker start hardened >/dev/null
dump hardened
# edit: user-namespace remapping (needs a subordinate id range this machine must not get).
edit hardened info.json 'd["SecurityOptions"] = ["name=seccomp,profile=default", "name=userns"]'

# 3. rootless: edit: a rootless Engine 27 (API 1.47, which lists no-new-privileges).
dump rootless
edit rootless version.json 'd["ApiVersion"] = "1.47"; d["Version"] = "27.5.1"; d["Components"][0]["Version"] = "27.5.1"; d["Components"][0]["Details"]["ApiVersion"] = "1.47"'
edit rootless info.json 'd["ServerVersion"] = "27.5.1"; d["SecurityOptions"] = ["name=seccomp,profile=builtin", "name=rootless", "name=cgroupns", "name=no-new-privileges"]'

# 4. weak-daemon: insecure registries and iptables off, no containers.
docker rm -f hardened >/dev/null
stop
start --host "unix://$T/docker.sock" --insecure-registry 10.0.0.0/8 --insecure-registry registry.internal:5000 --iptables=false
dump weak-daemon

# 5. ufw hosts: Docker's rules and ufw (enabled with a scratch copy of its configuration)
#    in the namespace, one port published on all interfaces; then a DOCKER-USER rule.
stop
start --host "unix://$T/docker.sock"
docker run -d --name web $E --user 1000 --memory 64m --pids-limit 64 -p 8080:80 sa-busybox:test sleep 3600 >/dev/null
U="$T/ufw"
mkdir -p "$U/etc/default" "$U/lib" "$U/usr/share"
cp -a /etc/ufw "$U/etc/" && cp /etc/default/ufw "$U/etc/default/" && cp -a /lib/ufw "$U/lib/"
cp -a /usr/share/ufw "$U/usr/share/"
: >"$U/sysctl.conf"
sed -i "s|^IPT_SYSCTL=.*|IPT_SYSCTL=$U/sysctl.conf|; s|^IPV6=.*|IPV6=yes|" "$U/etc/default/ufw"
sed -i 's|^ENABLED=.*|ENABLED=no|' "$U/etc/ufw/ufw.conf"
printf '*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n:ufw-user-forward - [0:0]\n:ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\nCOMMIT\n' >"$U/etc/ufw/user.rules"
printf '*filter\n:ufw6-user-input - [0:0]\n:ufw6-user-output - [0:0]\n:ufw6-user-forward - [0:0]\n:ufw6-user-limit - [0:0]\n:ufw6-user-limit-accept - [0:0]\nCOMMIT\n' >"$U/etc/ufw/user6.rules"
UFW="nsenter --net=/run/netns/$NS ufw --rootdir=$U --datadir=$U"
$UFW allow 22/tcp >/dev/null
$UFW deny 8080/tcp >/dev/null
yes | $UFW enable >/dev/null
dump ufw-bypass # ufw-docker-user serves these answers too; hardened reads its firewall
fw ufw-bypass
nsenter --net=/run/netns/$NS iptables -I DOCKER-USER 1 -i eth0 ! -s 10.0.0.0/8 -j DROP
fw ufw-docker-user
for fx in ufw-bypass ufw-docker-user; do
	mkdir -p $F/$fx/root/etc/ufw $F/$fx/root/etc/default
	cp "$U/etc/ufw/user.rules" "$U/etc/ufw/user6.rules" "$U/etc/ufw/ufw.conf" $F/$fx/root/etc/ufw/
	cp "$U/etc/default/ufw" $F/$fx/root/etc/default/
	sed -i "s|$U|/|g; s|^ENABLED=.*|ENABLED=yes|" $F/$fx/root/etc/ufw/ufw.conf $F/$fx/root/etc/default/ufw
done
echo "captured into $F"
