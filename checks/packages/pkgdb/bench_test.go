package pkgdb

import (
	"fmt"
	"strings"
	"testing"
)

// genDpkgStatus generates a dpkg status file of n packages with stanzas shaped like real
// ones (dependencies, conffiles, multi-line descriptions; about 1.5 KB each, so 1,500
// packages make a 2.2 MB file, as on a full server or desktop). Every 50th package is removed with its
// configuration files kept, every 7th has a binNMU-style Source with a version.
func genDpkgStatus(n int) string {
	var b strings.Builder
	for i := range n {
		status := "install ok installed"
		if i%50 == 49 {
			status = "deinstall ok config-files"
		}
		fmt.Fprintf(&b, "Package: pkg%04d-generated\nStatus: %s\nPriority: optional\nSection: libs\n", i, status)
		fmt.Fprintf(&b, "Installed-Size: %d\nMaintainer: Generated Maintainers <pkg%04d@lists.example.org>\n", 100+i*7%9000, i)
		fmt.Fprintf(&b, "Architecture: amd64\nMulti-Arch: same\n")
		switch {
		case i%7 == 0:
			fmt.Fprintf(&b, "Source: src%04d (1.%d.%d-1)\nVersion: 1.%d.%d-1+b1\n", i/3, i%13, i%5, i%13, i%5)
		default:
			fmt.Fprintf(&b, "Source: src%04d\nVersion: 1:%d.%d.%d-%dubuntu0.%d\n", i/3, i%4, i%13, i%5, 1+i%3, i%9)
		}
		fmt.Fprintf(&b, "Depends: libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), zlib1g (>= 1:1.2.0), pkg%04d-generated (= 1.0), libssl3 (>= 3.0.0), libsystemd0 (>= 252)\n", (i+1)%n)
		fmt.Fprintf(&b, "Breaks: old-pkg%04d (<< 1.0~)\nReplaces: old-pkg%04d (<< 1.0~)\n", i, i)
		if i%4 == 0 {
			fmt.Fprintf(&b, "Conffiles:\n /etc/pkg%04d/main.conf 0123456789abcdef0123456789abcdef\n /etc/pkg%04d/extra.conf fedcba9876543210fedcba9876543210\n", i, i)
		}
		fmt.Fprintf(&b, "Description: generated package number %d for the benchmark\n", i)
		for range 6 {
			b.WriteString(" This paragraph stands in for the long description every Debian package\n carries, which the reader must skip over quickly without keeping it.\n .\n")
		}
		fmt.Fprintf(&b, "Homepage: https://example.org/pkg%04d\n\n", i)
	}
	return b.String()
}

func TestGeneratedStatus(t *testing.T) {
	data := genDpkgStatus(1500)
	inst, other, err := parseDpkgStatus(strings.NewReader(data), "status")
	if err != nil {
		t.Fatal(err)
	}
	if len(inst) != 1470 || len(other) != 30 {
		t.Fatalf("got %d installed and %d other, want 1470 and 30", len(inst), len(other))
	}
	want := Package{Name: "pkg0007-generated", Version: "1.7.2-1+b1", Arch: "amd64", Source: "src0002", SourceVersion: "1.7.2-1"}
	if inst[7] != want {
		t.Errorf("inst[7] = %+v, want %+v", inst[7], want)
	}
	t.Logf("generated status: %d bytes", len(data))
}

// BenchmarkReadDpkg1500 reads a 1,500-package status file from disk through Read.
func BenchmarkReadDpkg1500(b *testing.B) {
	fsys := makeRoot(b, map[string]string{"/var/lib/dpkg/status": genDpkgStatus(1500)})
	b.ReportAllocs()
	for b.Loop() {
		db, err := Read(fsys)
		if err != nil || len(db.Packages) != 1470 {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadRPMSQLite reads the rpm SQLite fixture (15 packages, 368 KiB) through Read.
func BenchmarkReadRPMSQLite(b *testing.B) {
	fsys := makeRoot(b, map[string]string{"/var/lib/rpm/rpmdb.sqlite": "@testdata/rpm/rpmdb.sqlite"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadRPMBerkeley reads the Berkeley DB fixture (15 packages, 148 KiB) through Read.
func BenchmarkReadRPMBerkeley(b *testing.B) {
	fsys := makeRoot(b, map[string]string{"/var/lib/rpm/Packages": "@testdata/rpm/Packages"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
