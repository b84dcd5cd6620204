package pkgdb

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// makeRoot builds an audited root in a temporary directory: files maps a path inside the
// root to "@testdata/file" (copied) or literal content.
func makeRoot(t testing.TB, files map[string]string) host.FS {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		data := []byte(content)
		if src, ok := strings.CutPrefix(content, "@"); ok {
			var err error
			if data, err = os.ReadFile(src); err != nil {
				t.Fatal(err)
			}
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := host.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// lines renders packages as "name version arch source sourceversion state", "-" for
// empty fields, for compact expectations.
func lines(pkgs []Package) []string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	var out []string
	for _, p := range pkgs {
		out = append(out, strings.Join([]string{p.Name, dash(p.Version), dash(p.Arch), dash(p.Source), dash(p.SourceVersion), dash(p.State)}, " "))
	}
	return out
}

func assertLines(t *testing.T, what string, got []Package, want []string) {
	t.Helper()
	if g := lines(got); !slices.Equal(g, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestReadDpkgFixtures(t *testing.T) {
	for _, tc := range []struct {
		file         string
		pkgs, others []string
	}{{
		file: "debian11.status",
		pkgs: []string{
			"base-files 11.1+deb11u9 amd64 - - -",
			"bash 5.1-2+deb11u1 amd64 - - -",
			"libc6 2.31-13+deb11u8 amd64 glibc - -",
			"libssl1.1 1.1.1w-0+deb11u1 amd64 openssl - -",
			"libsystemd0 247.3-7+deb11u4 amd64 systemd - -",
			"linux-image-5.10.0-28-amd64 5.10.209-2 amd64 linux-signed-amd64 5.10.209+2 -",
			"linux-image-5.10.0-30-amd64 5.10.218-1 amd64 linux-signed-amd64 5.10.218+1 -",
			"openssh-client 1:8.4p1-5+deb11u3 amd64 openssh - -",
			"openssh-server 1:8.4p1-5+deb11u3 amd64 openssh - -",
			"openssl 1.1.1w-0+deb11u1 amd64 - - -",
			"sudo 1.9.5p2-3+deb11u1 amd64 - - -",
			"tzdata 2024a-0+deb11u1 all - - -",
			"zlib1g 1:1.2.11.dfsg-2+deb11u2 amd64 zlib - -",
		},
		others: []string{"linux-image-5.10.0-26-amd64 5.10.197-1 amd64 linux-signed-amd64 5.10.197+1 config-files"},
	}, {
		// Real stanzas of a Debian 12 host, plus an i386 libc6, a held curl and entries in
		// other states.
		file: "debian12.status",
		pkgs: []string{
			"base-files 12.4+deb12u11 amd64 - - -",
			"bash 5.2.15-2+b8 amd64 - 5.2.15-2 -", // binNMU: same source name, older version
			"ca-certificates 20230311+deb12u1 all - - -",
			"curl 7.88.1-10+deb12u14 amd64 - - -", // hold ok installed
			"libc6 2.36-9+deb12u14 amd64 glibc - -",
			"libc6 2.36-9+deb12u14 i386 glibc - -",
			"libcurl4 7.88.1-10+deb12u14 amd64 curl - -",
			"liblzma5 5.4.1-1 amd64 xz-utils - -",
			"libpam-modules 1.5.2-6+deb12u1 amd64 pam - -",
			"libssl3 3.0.19-1~deb12u2 amd64 openssl - -",
			"libsystemd0 252.38-1~deb12u1 amd64 systemd - -",
			"login 1:4.13+dfsg1-1+deb12u1 amd64 shadow - -",
			"openssh-client 1:9.2p1-2+deb12u10 amd64 openssh - -",
			"openssh-server 1:9.2p1-2+deb12u10 amd64 openssh - -",
			"openssl 3.0.19-1~deb12u2 amd64 - - -",
			"passwd 1:4.13+dfsg1-1+deb12u1 amd64 shadow - -",
			"systemd 252.38-1~deb12u1 amd64 - - -",
			"tzdata 2025b-0+deb12u2 all - - -",
			"xz-utils 5.4.1-1 amd64 - - -",
			"zlib1g 1:1.2.13.dfsg-1 amd64 zlib - -",
			"man-db 2.11.2-2 amd64 - - triggers-pending",
		},
		others: []string{
			"apt-listchanges 3.24 all - - config-files",
			"nginx-common 1.22.1-9+deb12u2 all nginx - half-installed",
			"telnet - amd64 - - not-installed",
		},
	}, {
		file: "ubuntu2204.status",
		pkgs: []string{
			"base-files 12ubuntu4.6 amd64 - - -",
			"libc6 2.35-0ubuntu3.8 amd64 glibc - -",
			"libc6 2.35-0ubuntu3.8 i386 glibc - -",
			"libpam-modules 1.4.0-11ubuntu2.4 amd64 pam - -",
			"libssl3 3.0.2-0ubuntu1.18 amd64 openssl - -",
			"libsystemd0 249.11-0ubuntu3.12 amd64 systemd - -",
			"linux-image-5.15.0-119-generic 5.15.0-119.129 amd64 linux-signed - -",
			"linux-modules-5.15.0-119-generic 5.15.0-119.129 amd64 linux - -",
			"openssh-client 1:8.9p1-3ubuntu0.10 amd64 openssh - -",
			"openssh-server 1:8.9p1-3ubuntu0.10 amd64 openssh - -",
			"openssl 3.0.2-0ubuntu1.18 amd64 - - -",
			"policykit-1 0.105-33 amd64 - - -", // "Source: policykit-1 (0.105-33)" names itself
			"snapd 2.63+22.04ubuntu0.1 amd64 - - -",
			"sudo 1.9.9-1ubuntu2.4 amd64 - - -", // hold ok installed
		},
		others: []string{"unattended-upgrades 2.8ubuntu1 all - - unpacked"},
	}, {
		file: "ubuntu2404.status",
		pkgs: []string{
			"base-files 13ubuntu10.1 amd64 - - -",
			"libc6 2.39-0ubuntu8.3 amd64 glibc - -",
			"liblzma5 5.6.1+really5.4.5-1build0.1 amd64 xz-utils - -",
			"libssl3t64 3.0.13-0ubuntu3.4 amd64 openssl - -",
			"libsystemd0 255.4-1ubuntu8.4 amd64 systemd - -",
			"linux-image-6.8.0-45-generic 6.8.0-45.45 amd64 linux-signed - -",
			"openssh-client 1:9.6p1-3ubuntu13.5 amd64 openssh - -",
			"openssh-server 1:9.6p1-3ubuntu13.5 amd64 openssh - -",
			"openssl 3.0.13-0ubuntu3.4 amd64 - - -",
			"sudo 1.9.15p5-3ubuntu5 amd64 - - -",
			"xz-utils 5.6.1+really5.4.5-1build0.1 amd64 - - -",
			"zlib1g 1:1.3.dfsg-3.1ubuntu2.1 amd64 zlib - -",
		},
		others: []string{
			"libssl3 3.0.2-0ubuntu1.15 amd64 openssl - config-files",
			"linux-image-6.8.0-41-generic 6.8.0-41.41 amd64 linux-signed - half-configured",
		},
	}} {
		t.Run(tc.file, func(t *testing.T) {
			fsys := makeRoot(t, map[string]string{"/var/lib/dpkg/status": "@testdata/dpkg/" + tc.file})
			db, err := Read(fsys)
			if err != nil {
				t.Fatal(err)
			}
			if db.Manager != Dpkg || db.Path != "/var/lib/dpkg/status" {
				t.Errorf("manager %q path %q", db.Manager, db.Path)
			}
			assertLines(t, "installed", db.Packages, tc.pkgs)
			assertLines(t, "other states", db.Other, tc.others)
		})
	}
}

func TestParseDpkgStatusEdgeCases(t *testing.T) {
	good := "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nDescription: x\n y\n .\n z\n\n\n" +
		"package: b\r\nstatus: install ok installed\r\nversion: 2\r\nsource: c (3)\r\n" // lower case, CRLF, no final blank line
	inst, other, err := parseDpkgStatus(strings.NewReader(good), "status")
	if err != nil {
		t.Fatal(err)
	}
	assertLines(t, "installed", inst, []string{"a 1 all - - -", "b 2 - c 3 -"})
	if len(other) != 0 {
		t.Errorf("other = %v", other)
	}
	for name, bad := range map[string]string{
		"continuation first":   " continued\n",
		"no colon":             "Package: a\nStatus install ok installed\n",
		"field with space":     "Package: a\nBad Field: x\n",
		"no package":           "Status: install ok installed\nVersion: 1\n",
		"two-word status":      "Package: a\nStatus: install installed\nVersion: 1\n",
		"unknown status":       "Package: a\nStatus: install ok inst\nVersion: 1\n",
		"installed no version": "Package: a\nStatus: install ok installed\n",
		"bad source":           "Package: a\nStatus: install ok installed\nVersion: 1\nSource: b (1\n",
		"line too long":        "Package: a\nDescription: " + strings.Repeat("x", maxLine+10) + "\n",
	} {
		_, _, err := parseDpkgStatus(strings.NewReader(bad), "status")
		if !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: err = %v, want a parse error", name, err)
		}
	}
	// The error names the line where the stanza starts.
	_, _, err = parseDpkgStatus(strings.NewReader(good+"\nPackage: z\nStatus: install ok nope\n"), "/var/lib/dpkg/status")
	if err == nil || !strings.Contains(err.Error(), "/var/lib/dpkg/status line 16") {
		t.Errorf("error %v does not name line 16", err)
	}
}

func TestReadAPKFixture(t *testing.T) {
	fsys := makeRoot(t, map[string]string{"/lib/apk/db/installed": "@testdata/apk/alpine319.installed"})
	db, err := Read(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if db.Manager != APK || db.Path != "/lib/apk/db/installed" {
		t.Errorf("manager %q path %q", db.Manager, db.Path)
	}
	assertLines(t, "alpine 3.19", db.Packages, []string{
		"musl 1.2.4_git20230717-r4 x86_64 - - -",
		"busybox 1.36.1-r15 x86_64 - - -",
		"busybox-binsh 1.36.1-r15 x86_64 busybox - -",
		"alpine-baselayout-data 3.4.3-r2 x86_64 alpine-baselayout - -",
		"alpine-baselayout 3.4.3-r2 x86_64 - - -",
		"alpine-keys 2.4-r1 x86_64 - - -",
		"ca-certificates-bundle 20240226-r0 x86_64 ca-certificates - -",
		"libcrypto3 3.1.4-r5 x86_64 openssl - -",
		"libssl3 3.1.4-r5 x86_64 openssl - -",
		"ssl_client 1.36.1-r15 x86_64 busybox - -",
		"zlib 1.3.1-r0 x86_64 - - -",
		"apk-tools 2.14.0-r5 x86_64 - - -",
		"scanelf 1.3.7-r2 x86_64 pax-utils - -",
		"musl-utils 1.2.4_git20230717-r4 x86_64 musl - -",
		"libc-utils 0.7.2-r5 x86_64 libc-dev - -",
		"openssh-keygen 9.6_p1-r0 x86_64 openssh - -",
		"openssh-server-common 9.6_p1-r0 x86_64 openssh - -",
		"openssh-server 9.6_p1-r0 x86_64 openssh - -",
	})
	if len(db.Other) != 0 {
		t.Errorf("apk has no other states, got %v", db.Other)
	}
}

func TestParseAPKInstalledErrors(t *testing.T) {
	for name, bad := range map[string]string{
		"no colon":   "P:a\nV:1\nbad line\n",
		"long key":   "P:a\nVV:1\n",
		"no name":    "V:1\nA:x86_64\n\n",
		"no version": "P:a\nA:x86_64\n\n",
	} {
		if _, err := parseAPKInstalled(strings.NewReader(bad), "installed"); !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: err = %v, want a parse error", name, err)
		}
	}
	pkgs, err := parseAPKInstalled(strings.NewReader("P:a\nV:1-r0\n\n\n\nP:b\nV:2-r1\no:a\n"), "installed")
	if err != nil {
		t.Fatal(err)
	}
	assertLines(t, "apk", pkgs, []string{"a 1-r0 - - - -", "b 2-r1 - a - -"})
}

// rhel9 is the package list of the rpm fixtures (see testdata/rpm/make-rpmdb.sh), in
// header number order; the gpg-pubkey entry is left out.
func rhel9() []string {
	return []string{
		"tzdata 2024a-1.el9 noarch - - -",
		"glibc-common 2.34-83.el9_3.7 x86_64 glibc - -",
		"glibc 2.34-83.el9_3.7 x86_64 - - -",
		"glibc 2.34-83.el9_3.7 i686 - - -",
		"openssl-libs 1:3.0.7-27.el9 x86_64 openssl - -",
		"xz-libs 5.2.5-8.el9_0 x86_64 xz - -",
		"openssh 8.7p1-38.el9 x86_64 - - -",
		"openssh-server 8.7p1-38.el9 x86_64 openssh - -",
		"openssh-clients 8.7p1-38.el9 x86_64 openssh - -",
		"sudo 1.9.5p2-9.el9 x86_64 - - -",
		"polkit-libs 0.117-11.el9 x86_64 polkit - -",
		"polkit 0.117-11.el9 x86_64 - - -",
		"shadow-utils 2:4.9-8.el9 x86_64 - - -",
		"kernel-core 5.14.0-362.8.1.el9_3 x86_64 kernel - -",
		"kernel-core 5.14.0-427.13.1.el9_4 x86_64 kernel - -",
	}
}

// small is the package list of small.sqlite and Packages.small.
func small() []string { return []string{rhel9()[0], rhel9()[5]} }

// rhel9WAL is rhel9 after the two transactions left in the WAL fixture: tzdata erased,
// then sudo replaced by a newer build (a new header number, so it comes last).
func rhel9WAL() []string {
	var out []string
	for _, l := range rhel9() {
		if !strings.HasPrefix(l, "tzdata ") && !strings.HasPrefix(l, "sudo ") {
			out = append(out, l)
		}
	}
	return append(out, "sudo 1.9.5p2-10.el9_3 x86_64 - - -")
}

func TestReadRPMFixtures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		path  string
		want  []string
	}{
		{"sqlite RHEL 9", map[string]string{"/var/lib/rpm/rpmdb.sqlite": "@testdata/rpm/rpmdb.sqlite"}, "/var/lib/rpm/rpmdb.sqlite", rhel9()},
		{"sqlite Fedora path", map[string]string{"/usr/lib/sysimage/rpm/rpmdb.sqlite": "@testdata/rpm/rpmdb.sqlite"}, "/usr/lib/sysimage/rpm/rpmdb.sqlite", rhel9()},
		{"sqlite with WAL", map[string]string{
			"/var/lib/rpm/rpmdb.sqlite":     "@testdata/rpm/wal/rpmdb.sqlite",
			"/var/lib/rpm/rpmdb.sqlite-wal": "@testdata/rpm/wal/rpmdb.sqlite-wal",
		}, "/var/lib/rpm/rpmdb.sqlite", rhel9WAL()},
		{"sqlite WAL fixture without its WAL", map[string]string{"/var/lib/rpm/rpmdb.sqlite": "@testdata/rpm/wal/rpmdb.sqlite"}, "/var/lib/rpm/rpmdb.sqlite", rhel9()},
		{"sqlite with empty WAL", map[string]string{
			"/var/lib/rpm/rpmdb.sqlite":     "@testdata/rpm/rpmdb.sqlite",
			"/var/lib/rpm/rpmdb.sqlite-wal": "",
		}, "/var/lib/rpm/rpmdb.sqlite", rhel9()},
		{"bdb little-endian", map[string]string{"/var/lib/rpm/Packages": "@testdata/rpm/Packages"}, "/var/lib/rpm/Packages", rhel9()},
		{"bdb big-endian 1 KiB pages", map[string]string{"/var/lib/rpm/Packages": "@testdata/rpm/Packages.be"}, "/var/lib/rpm/Packages", rhel9()},
		{"bdb checksummed 512-byte pages", map[string]string{"/var/lib/rpm/Packages": "@testdata/rpm/Packages.chksum"}, "/var/lib/rpm/Packages", rhel9()},
		{"sqlite 512-byte pages by sqlite3", map[string]string{"/var/lib/rpm/rpmdb.sqlite": "@testdata/rpm/small.sqlite"}, "/var/lib/rpm/rpmdb.sqlite", small()},
		{"bdb 512-byte pages, two headers", map[string]string{"/var/lib/rpm/Packages": "@testdata/rpm/Packages.small"}, "/var/lib/rpm/Packages", small()},
		{"sqlite preferred to a leftover bdb", map[string]string{
			"/var/lib/rpm/Packages":     "@testdata/rpm/Packages",
			"/var/lib/rpm/rpmdb.sqlite": "@testdata/rpm/wal/rpmdb.sqlite",
		}, "/var/lib/rpm/rpmdb.sqlite", rhel9()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Read(makeRoot(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if db.Manager != RPM || db.Path != tc.path {
				t.Errorf("manager %q path %q", db.Manager, db.Path)
			}
			assertLines(t, "packages", db.Packages, tc.want)
		})
	}
}

func TestReadDetection(t *testing.T) {
	dpkg := "@testdata/dpkg/debian12.status"
	rpm := "@testdata/rpm/rpmdb.sqlite"
	apk := "@testdata/apk/alpine319.installed"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  Manager
	}{
		{"debian with rpm installed", map[string]string{"/var/lib/dpkg/status": dpkg, "/var/lib/rpm/rpmdb.sqlite": rpm, "/etc/os-release": "ID=debian\n"}, Dpkg},
		{"rocky with a stray dpkg", map[string]string{"/var/lib/dpkg/status": dpkg, "/var/lib/rpm/rpmdb.sqlite": rpm, "/etc/os-release": "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"}, RPM},
		{"derivative by ID_LIKE", map[string]string{"/var/lib/dpkg/status": dpkg, "/var/lib/rpm/rpmdb.sqlite": rpm, "/etc/os-release": "ID=someos\nID_LIKE=fedora\n"}, RPM},
		{"alpine", map[string]string{"/var/lib/dpkg/status": dpkg, "/lib/apk/db/installed": apk, "/usr/lib/os-release": "ID=alpine\n"}, APK},
		{"unknown distribution: first found", map[string]string{"/var/lib/rpm/rpmdb.sqlite": rpm, "/lib/apk/db/installed": apk, "/etc/os-release": "ID=gentoo\n"}, RPM},
		{"no os-release: first found", map[string]string{"/var/lib/dpkg/status": dpkg, "/lib/apk/db/installed": apk}, Dpkg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Read(makeRoot(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if db.Manager != tc.want || len(db.Packages) == 0 {
				t.Errorf("read %s with %d packages, want %s", db.Manager, len(db.Packages), tc.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	// No database at all: a skip, not an error.
	_, err := Read(makeRoot(t, map[string]string{"/etc/os-release": "ID=debian\n"}))
	if !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("err = %v, want ErrNoDatabase", err)
	}
	if reason, skip := checks.Classify(err); reason != report.ReasonNotFound || !skip {
		t.Errorf("ErrNoDatabase classifies as %s skip=%v, want not_found skip", reason, skip)
	}
	// SUSE's NDB is found but refused clearly.
	_, err = Read(makeRoot(t, map[string]string{"/usr/lib/sysimage/rpm/Packages.db": "ndb"}))
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "NDB") {
		t.Errorf("NDB: err = %v, want ErrUnsupported", err)
	}
	// A directory where the database should be is found and reported.
	_, err = Read(makeRoot(t, map[string]string{"/var/lib/dpkg/status/x": ""}))
	if err == nil || errors.Is(err, ErrNoDatabase) {
		t.Errorf("status directory: err = %v", err)
	}
	// Malformed databases are parse errors that say which file broke.
	for path, content := range map[string]string{
		"/var/lib/dpkg/status":      "Package: a\nStatus: bogus\n",
		"/lib/apk/db/installed":     "garbage\n",
		"/var/lib/rpm/rpmdb.sqlite": "SQLite format 2\x00" + strings.Repeat("x", 200),
		"/var/lib/rpm/Packages":     strings.Repeat("\x00", 4096),
	} {
		_, err := Read(makeRoot(t, map[string]string{path: content}))
		if !errors.Is(err, checks.ErrParse) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want a parse error naming the file", path, err)
		}
	}
}

// TestDpkgSizeCap checks that the status file is streamed with a cap above
// host.MaxFileSize rather than refused at it.
func TestDpkgSizeCap(t *testing.T) {
	if maxTextDB <= host.MaxFileSize {
		t.Fatalf("maxTextDB %d must exceed host.MaxFileSize %d", maxTextDB, host.MaxFileSize)
	}
	big := genDpkgStatus(6000) // about 8.8 MB, above host.MaxFileSize
	if len(big) <= host.MaxFileSize {
		t.Fatalf("generated status of %d bytes is not above host.MaxFileSize", len(big))
	}
	inst, _, err := parseDpkgStatus(strings.NewReader(big), "status")
	if err != nil || len(inst) != 6000-6000/50 {
		t.Fatalf("got %d packages, err %v", len(inst), err)
	}
	lr := newLineReader(endless{}, "status")
	for {
		if _, err = lr.next(); err != nil {
			break
		}
	}
	if !errors.Is(err, host.ErrTooLarge) {
		t.Errorf("over the cap: err = %v, want ErrTooLarge", err)
	}
}

func TestLookup(t *testing.T) {
	db, err := Read(makeRoot(t, map[string]string{"/var/lib/rpm/rpmdb.sqlite": "@testdata/rpm/rpmdb.sqlite"}))
	if err != nil {
		t.Fatal(err)
	}
	assertLines(t, "glibc", db.Lookup("glibc"), []string{"glibc 2.34-83.el9_3.7 x86_64 - - -", "glibc 2.34-83.el9_3.7 i686 - - -"})
	assertLines(t, "kernel-core", db.Lookup("kernel-core"), rhel9()[13:15])
	if got := db.Lookup("gpg-pubkey"); got != nil {
		t.Errorf("gpg-pubkey pseudo packages must be skipped, got %v", got)
	}
	if got := db.Lookup("nginx"); got != nil {
		t.Errorf("Lookup(nginx) = %v", got)
	}
}

func TestSourcePackage(t *testing.T) {
	for _, tc := range []struct {
		p          Package
		name, vers string
	}{
		{Package{Name: "libc6", Version: "2.36-9", Source: "glibc"}, "glibc", "2.36-9"},
		{Package{Name: "bash", Version: "5.2.15-2+b8", SourceVersion: "5.2.15-2"}, "bash", "5.2.15-2"},
		{Package{Name: "openssl", Version: "3.0.2"}, "openssl", "3.0.2"},
	} {
		if n, v := tc.p.SourcePackage(); n != tc.name || v != tc.vers {
			t.Errorf("%+v.SourcePackage() = %s %s, want %s %s", tc.p, n, v, tc.name, tc.vers)
		}
	}
}

// TestCompareDispatch checks that Compare uses the manager's own ordering, with a pair the
// orderings disagree on: apk sorts the "_rc" suffix before the release, dpkg sorts "_"
// after the end of the string, rpm sees an extra "rc1" segment.
func TestCompareDispatch(t *testing.T) {
	a, b := "1.0_rc1-r0", "1.0-r0"
	for _, tc := range []struct {
		m    Manager
		want int
	}{{APK, -1}, {Dpkg, 1}, {RPM, 1}, {"other", 1}} {
		t.Run(string(tc.m), func(t *testing.T) {
			db := &DB{Manager: tc.m}
			if got := db.Compare(a, b); got != tc.want {
				t.Errorf("%s: Compare(%q, %q) = %d, want %d", tc.m, a, b, got, tc.want)
			}
			if got := db.Compare(b, a); got != -tc.want {
				t.Errorf("%s: Compare(%q, %q) = %d, want %d", tc.m, b, a, got, -tc.want)
			}
		})
	}
}

// TestFileWithoutRandomAccess reads a binary database through a file system whose files
// are plain readers, as an in-memory FS might provide.
func TestFileWithoutRandomAccess(t *testing.T) {
	fsys := plainFS{makeRoot(t, map[string]string{"/var/lib/rpm/Packages": "@testdata/rpm/Packages.be"})}
	db, err := Read(fsys)
	if err != nil {
		t.Fatal(err)
	}
	assertLines(t, "packages", db.Packages, rhel9())
}

// plainFS hides the io.ReaderAt of its files.
type plainFS struct{ host.FS }

func (p plainFS) Open(name string) (io.ReadCloser, error) {
	f, err := p.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return struct{ io.ReadCloser }{f}, nil
}

// endless reads short lines forever.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "Package: x\n"[i%11]
	}
	return len(p), nil
}
