#!/bin/sh
# make-rpmdb.sh regenerates the rpm database fixtures of package pkgdb from tiny packages
# built here, so that the readers are tested against files written by rpm and libdb
# themselves rather than by our own code.
#
#   rpmdb.sqlite            rpm 4.18 SQLite database (RHEL 9 / Fedora layout), WAL checkpointed
#   wal/rpmdb.sqlite{,-wal} the same database with two uncheckpointed WAL commits:
#                           1) tzdata erased, 2) sudo 1.9.5p2-9 replaced by 1.9.5p2-10.el9_3
#   Packages                Berkeley DB hash, little-endian, 4096-byte pages (RHEL 7/8 layout),
#                           rebuilt from the SQLite headers with db5.3_load
#   Packages.be             the same, big-endian, 1024-byte pages (longer overflow chains)
#   Packages.chksum         the same, little-endian, 512-byte pages, page checksums on
#   small.sqlite            tzdata and xz-libs only, 512-byte pages, written by sqlite3
#   Packages.small          the same two headers in a Berkeley DB with 512-byte pages
#                           (the small files are the fuzzing seeds)
#
# Needs (Debian): rpm, sqlite3, db5.3-util, gnupg. Run from anywhere:
#   sh checks/packages/pkgdb/testdata/rpm/make-rpmdb.sh
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

# spec NAME EPOCH VERSION RELEASE TARGET NFILES PACKAGE...
# Builds the listed packages of one source package: "." is NAME itself, "sub" is NAME-sub,
# "=full" is a subpackage with its own name (%package -n full). NFILES empty files in each
# make the headers large enough to need overflow pages in both database formats.
spec() {
	name=$1 epoch=$2 version=$3 release=$4 target=$5 nfiles=$6
	shift 6
	f="$work/$name-$version-$release-$target.spec"
	{
		echo "Name: $name"
		[ "$epoch" = - ] || echo "Epoch: $epoch"
		echo "Version: $version"
		echo "Release: $release"
		echo "Summary: test fixture $name"
		echo "License: MIT"
		echo "%description"
		echo "Fixture package for server-audit's package database tests."
		echo "%install"
		for pkg in "$@"; do
			dir=/usr/share/fixture/$(full "$name" "$pkg")
			echo "mkdir -p %{buildroot}$dir"
			echo "for i in \$(seq 1 $nfiles); do : > %{buildroot}$dir/file-\$i; done"
		done
		for pkg in "$@"; do
			case $pkg in
			.) hdr= ;;
			=*) hdr="-n ${pkg#=}" ;;
			*) hdr=$pkg ;;
			esac
			if [ -n "$hdr" ]; then
				echo "%package $hdr"
				echo "Summary: test fixture $(full "$name" "$pkg")"
				echo "%description $hdr"
				echo "Fixture subpackage."
			fi
			echo "%files $hdr"
			echo "/usr/share/fixture/$(full "$name" "$pkg")"
		done
	} >"$f"
	rpmbuild -bb --quiet --target "$target" \
		--define "_topdir $work/top" --define 'debug_package %{nil}' \
		--define '_buildhost fixture.example' --define 'use_source_date_epoch_as_buildtime 1' \
		--define '_build_id_links none' "$f" >/dev/null
}
full() { # NAME PACKAGE
	case $2 in
	.) echo "$1" ;;
	=*) echo "${2#=}" ;;
	*) echo "$1-$2" ;;
	esac
}

spec openssh - 8.7p1 38.el9 x86_64 60 . server clients
spec openssl 1 3.0.7 27.el9 x86_64 40 libs
spec glibc - 2.34 83.el9_3.7 x86_64 150 . common
spec glibc - 2.34 83.el9_3.7 i686 10 . # multilib: glibc.i686 next to glibc.x86_64
spec sudo - 1.9.5p2 9.el9 x86_64 40 .
spec polkit - 0.117 11.el9 x86_64 20 . libs
spec xz - 5.2.5 8.el9_0 x86_64 5 =xz-libs
spec kernel - 5.14.0 362.8.1.el9_3 x86_64 5 core
spec kernel - 5.14.0 427.13.1.el9_4 x86_64 5 core
spec shadow-utils 2 4.9 8.el9 x86_64 5 .
spec tzdata - 2024a 1.el9 noarch 3 .

rpmi() { # DBPATH RPM...
	dbpath=$1
	shift
	rpm -i --justdb --nodeps --noscripts --ignorearch --dbpath "$dbpath" --define '_db_backend sqlite' "$@" 2>&1 |
		grep -v -e 'use Alien instead' -e 'know what you are doing' >&2 || true
}
db="$work/db"
mkdir -p "$db"
# Install one at a time in a fixed order so that header numbers are stable.
r=$work/top/RPMS
for f in noarch/tzdata-2024a-1.el9.noarch x86_64/glibc-common-2.34-83.el9_3.7.x86_64 \
	x86_64/glibc-2.34-83.el9_3.7.x86_64 i686/glibc-2.34-83.el9_3.7.i686 \
	x86_64/openssl-libs-3.0.7-27.el9.x86_64 x86_64/xz-libs-5.2.5-8.el9_0.x86_64 \
	x86_64/openssh-8.7p1-38.el9.x86_64 x86_64/openssh-server-8.7p1-38.el9.x86_64 \
	x86_64/openssh-clients-8.7p1-38.el9.x86_64 x86_64/sudo-1.9.5p2-9.el9.x86_64 \
	x86_64/polkit-libs-0.117-11.el9.x86_64 x86_64/polkit-0.117-11.el9.x86_64 \
	x86_64/shadow-utils-4.9-8.el9.x86_64 x86_64/kernel-core-5.14.0-362.8.1.el9_3.x86_64 \
	x86_64/kernel-core-5.14.0-427.13.1.el9_4.x86_64; do
	rpmi "$db" "$r/$f.rpm"
done

# A signing key appears in rpm databases as a "gpg-pubkey" pseudo package.
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Fixture Signing Key <fixture@example.invalid>' rsa2048 sign never 2>/dev/null
gpg --batch --quiet --armor --export >"$work/key.asc"
rpm --import --dbpath "$db" --define '_db_backend sqlite' "$work/key.asc"

# The updated sudo for the WAL fixture, in a scratch database.
spec sudo - 1.9.5p2 10.el9_3 x86_64 40 .
mkdir -p "$work/scratch"
rpmi "$work/scratch" "$work"/top/RPMS/x86_64/sudo-1.9.5p2-10.el9_3.x86_64.rpm

cp "$db/rpmdb.sqlite" "$out/rpmdb.sqlite"

# WAL fixture: two commits left in the WAL by copying the files while sqlite3 holds them open.
mkdir -p "$work/wal" "$out/wal"
cp "$db/rpmdb.sqlite" "$work/wal/rpmdb.sqlite"
sqlite3 "$work/wal/rpmdb.sqlite" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
PRAGMA wal_autocheckpoint=0;
DELETE FROM Packages WHERE hnum=1;
ATTACH '$work/scratch/rpmdb.sqlite' AS s;
BEGIN;
DELETE FROM Packages WHERE hnum=(SELECT hnum FROM Name WHERE key='sudo');
INSERT INTO Packages(blob) SELECT blob FROM s.Packages;
COMMIT;
.shell cp $work/wal/rpmdb.sqlite $work/wal/rpmdb.sqlite-wal $out/wal/
SQL

# Berkeley DB hash databases with the same headers. rpm's Packages maps a 4-byte header
# number in the machine's byte order to the header blob; key 0 holds the last number used.
bdb() { # FILE ORDER PAGESIZE WHERE [CHKSUM]
	le=$([ "$2" = 1234 ] && echo 1 || echo 0)
	{
		echo VERSION=3
		echo format=bytevalue
		echo type=hash
		echo "db_lorder=$2"
		echo "db_pagesize=$3"
		[ $# -lt 5 ] || echo "chksum=1"
		echo HEADER=END
		sqlite3 "$db/rpmdb.sqlite" "SELECT hnum, lower(hex(blob)) FROM Packages WHERE $4 ORDER BY hnum" |
			awk -F'|' -v le="$le" '
			function key(n) {
				if (le) return sprintf("%02x%02x%02x%02x", n%256, int(n/256)%256, int(n/65536)%256, int(n/16777216))
				return sprintf("%02x%02x%02x%02x", int(n/16777216), int(n/65536)%256, int(n/256)%256, n%256)
			}
			{ printf " %s\n %s\n", key($1), $2; last=$1 }
			END { printf " %s\n %s\n", key(0), key(last) }'
		echo DATA=END
	} | db5.3_load "$1"
}
rm -f "$out/Packages" "$out/Packages.be" "$out/Packages.chksum" "$out/Packages.small" "$out/small.sqlite"
bdb "$out/Packages" 1234 4096 1
bdb "$out/Packages.be" 4321 1024 1
bdb "$out/Packages.chksum" 1234 512 1 chksum
bdb "$out/Packages.small" 1234 512 "hnum IN (1, 6)"

# A small SQLite database (tzdata and xz-libs, header numbers 1 and 6) with 512-byte pages.
sqlite3 "$out/small.sqlite" <<SQL
PRAGMA page_size=512;
CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
ATTACH '$db/rpmdb.sqlite' AS r;
INSERT INTO Packages(hnum, blob) SELECT hnum, blob FROM r.Packages WHERE hnum IN (1, 6);
SQL

# Record what rpm itself reads from each database, for a quick look; the Go integration
# test re-runs rpm on copies.
# (small.sqlite lacks the index tables rpm insists on creating, so rpm cannot read it.)
for f in rpmdb.sqlite wal/rpmdb.sqlite Packages Packages.be Packages.chksum Packages.small; do
	d="$work/check/$f"
	mkdir -p "$d"
	case $f in
	*.sqlite)
		cp "$out/$f" "$d/rpmdb.sqlite"
		[ ! -f "$out/$f-wal" ] || cp "$out/$f-wal" "$d/rpmdb.sqlite-wal"
		be=sqlite
		;;
	*) cp "$out/$f" "$d/Packages"; be=bdb_ro ;;
	esac
	echo "== $f"
	# (bdb_ro warns about the index databases we do not build; rpm cannot read checksummed
	# pages, which our reader supports.)
	rpm -qa --dbpath "$d" --define "_db_backend $be" --qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\n' 2>&1 |
		grep -v 'warning: could not open' | sort
done
ls -l "$out" "$out/wal"
