package pkgdb

import (
	"errors"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
)

// The fuzz targets run every reader on arbitrary input: it must return a package list or
// an error wrapping checks.ErrParse, and never panic, hang or allocate without bound.

func FuzzDpkgStatus(f *testing.F) {
	for _, name := range []string{"debian11.status", "debian12.status", "ubuntu2204.status", "ubuntu2404.status"} {
		f.Add(string(readFixture(f, "dpkg/"+name)))
	}
	f.Add("Package: a\nStatus: install ok installed\nVersion: 1\nSource: b (2)\n\nPackage: c\n Status")
	f.Fuzz(func(t *testing.T, data string) {
		inst, other, err := parseDpkgStatus(strings.NewReader(data), "status")
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("not a parse error: %v", err)
			}
			return
		}
		states := dpkgStates()
		for _, p := range inst {
			if p.Name == "" || p.Version == "" || (p.State != "" && !states[p.State]) {
				t.Fatalf("bad installed package %+v", p)
			}
		}
		for _, p := range other {
			if p.Name == "" || states[p.State] {
				t.Fatalf("bad other package %+v", p)
			}
		}
	})
}

func FuzzApkInstalled(f *testing.F) {
	f.Add(string(readFixture(f, "apk/alpine319.installed")))
	f.Add("P:a\nV:1-r0\no:b\n\nP:c\nV:2")
	f.Fuzz(func(t *testing.T, data string) {
		pkgs, err := parseAPKInstalled(strings.NewReader(data), "installed")
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("not a parse error: %v", err)
			}
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func FuzzSQLite(f *testing.F) {
	f.Add(readFixture(f, "rpm/small.sqlite"), []byte(nil))
	f.Add(readFixture(f, "rpm/rpmdb.sqlite"), []byte(nil))
	f.Add(readFixture(f, "rpm/wal/rpmdb.sqlite"), readFixture(f, "rpm/wal/rpmdb.sqlite-wal"))
	f.Fuzz(func(t *testing.T, db, wal []byte) {
		if len(wal) == 0 {
			wal = nil
		}
		pkgs, err := readSQLiteBytes(db, wal)
		checkBinaryResult(t, pkgs, err)
	})
}

func FuzzBerkeleyDB(f *testing.F) {
	for _, name := range []string{"Packages.small", "Packages", "Packages.be", "Packages.chksum"} {
		f.Add(readFixture(f, "rpm/"+name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := readBDBBytes(data)
		checkBinaryResult(t, pkgs, err)
	})
}

func FuzzRPMHeader(f *testing.F) {
	f.Add(firstHeader(f))
	f.Add(buildHeader(str(tagName, "a"), str(tagVersion, "1"), str(tagRelease, "2"), hdrEntry{tag: tagEpoch, typ: typeInt32, num: 3}, str(tagSourceRPM, "b-1-2.src.rpm")))
	f.Fuzz(func(t *testing.T, blob []byte) {
		p, err := rpmPackage(blob)
		if err != nil {
			return
		}
		if p.Name == "" || p.Name == "gpg-pubkey" || !strings.Contains(p.Version, "-") {
			t.Fatalf("bad package %+v", p)
		}
	})
}

// checkBinaryResult asserts the invariants of a binary database reader's result.
func checkBinaryResult(t *testing.T, pkgs []Package, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, checks.ErrParse) {
			t.Fatalf("not a parse error: %v", err)
		}
		return
	}
	for _, p := range pkgs {
		if p.Name == "" || !strings.Contains(p.Version, "-") {
			t.Fatalf("bad package %+v", p)
		}
	}
}
