#!/bin/sh
# make-rpmdb.sh writes the rpm databases of the Rocky Linux 9 fixtures from tiny packages
# built here, so that the fixtures hold files written by rpm itself:
#
#   fixtures/rocky9-patched/root/var/lib/rpm/rpmdb.sqlite     openssh 8.7p1-38.el9_4.1 (regreSSHion fixed)
#   fixtures/rocky9-vulnerable/root/var/lib/rpm/rpmdb.sqlite  openssh 8.7p1-38.el9, polkit 0.115 of RHEL 8 era
#
# Needs (Debian): rpm. Run from anywhere: sh checks/packages/testdata/make-rpmdb.sh
set -eu
out=$(cd "$(dirname "$0")" && pwd)/fixtures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

spec() { # NAME VERSION RELEASE ARCH SUBPACKAGE...  ("." is NAME itself)
	name=$1 version=$2 release=$3 arch=$4
	shift 4
	f="$work/$name-$version-$release.spec"
	{
		echo "Name: $name"
		echo "Version: $version"
		echo "Release: $release"
		echo "Summary: fixture $name"
		echo "License: MIT"
		[ "$arch" = noarch ] && echo "BuildArch: noarch"
		echo "%description"
		echo "Fixture package."
		for pkg in "$@"; do
			[ "$pkg" = . ] && continue
			echo "%package $pkg"
			echo "Summary: fixture $name-$pkg"
			echo "%description $pkg"
			echo "Fixture subpackage."
		done
		for pkg in "$@"; do
			if [ "$pkg" = . ]; then echo "%files"; else echo "%files $pkg"; fi
		done
	} >"$f"
	rpmbuild -bb --quiet --target "$arch" --define "_topdir $work/top" --define 'debug_package %{nil}' \
		--define '_buildhost fixture.example' --define 'use_source_date_epoch_as_buildtime 1' \
		--define '_build_id_links none' "$f" >/dev/null
}

spec openssh 8.7p1 38.el9 x86_64 . server clients
spec openssh 8.7p1 38.el9_4.1 x86_64 . server clients
spec sudo 1.9.5p2 10.el9_3 x86_64 .
spec polkit 0.117 11.el9 x86_64 .
spec dnf-automatic 4.14.0 9.el9 noarch .
spec kernel 5.14.0 427.13.1.el9_4 x86_64 core
spec kernel 5.14.0 503.11.1.el9_5 x86_64 core
spec telnet-server 0.17 85.el9 x86_64 .

db() { # FIXTURE RPM...
	dir="$out/$1/root/var/lib/rpm"
	shift
	rm -rf "$work/db" && mkdir -p "$work/db" "$dir"
	for f in "$@"; do
		rpm -i --justdb --nodeps --noscripts --ignorearch --dbpath "$work/db" --define '_db_backend sqlite' \
			"$work/top/RPMS/$f.rpm" 2>&1 | grep -v -e 'use Alien instead' -e 'know what you are doing' >&2 || true
	done
	sqlite3 "$work/db/rpmdb.sqlite" 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;' >/dev/null
	cp "$work/db/rpmdb.sqlite" "$dir/rpmdb.sqlite"
}

db rocky9-patched x86_64/openssh-8.7p1-38.el9_4.1.x86_64 x86_64/openssh-server-8.7p1-38.el9_4.1.x86_64 \
	x86_64/openssh-clients-8.7p1-38.el9_4.1.x86_64 x86_64/sudo-1.9.5p2-10.el9_3.x86_64 \
	x86_64/polkit-0.117-11.el9.x86_64 noarch/dnf-automatic-4.14.0-9.el9.noarch \
	x86_64/kernel-core-5.14.0-427.13.1.el9_4.x86_64
db rocky9-vulnerable x86_64/openssh-8.7p1-38.el9.x86_64 x86_64/openssh-server-8.7p1-38.el9.x86_64 \
	x86_64/openssh-clients-8.7p1-38.el9.x86_64 x86_64/sudo-1.9.5p2-10.el9_3.x86_64 \
	x86_64/telnet-server-0.17-85.el9.x86_64 x86_64/kernel-core-5.14.0-427.13.1.el9_4.x86_64 \
	x86_64/kernel-core-5.14.0-503.11.1.el9_5.x86_64
for d in rocky9-patched rocky9-vulnerable; do
	echo "== $d"
	rpm -qa --dbpath "$out/$d/root/var/lib/rpm" --define '_db_backend sqlite' --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n' | sort
done
