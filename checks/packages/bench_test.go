package packages

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
)

// benchPackages is the size of the generated inventory.
const benchPackages = 1500

// writeBenchRoot writes a Debian 12 root with benchPackages installed packages (the watched
// and curated ones among them), a bookworm index of the same packages, a bookworm-security
// index of 4,000 entries (the size of the real one) with newer versions of every tenth
// installed package, lz4-compressed as apt keeps them with GzipIndexes, and the apt
// configuration the family reads.
func writeBenchRoot(tb testing.TB, root string) {
	tb.Helper()
	write := func(name string, data []byte) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	lz := func(data []byte) []byte {
		var b bytes.Buffer
		w := lz4.NewWriter(&b)
		if _, err := w.Write(data); err != nil {
			tb.Fatal(err)
		}
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
		return b.Bytes()
	}
	named := []string{"openssh-server", "openssh-client", "sudo", "libc6", "libssl3", "openssl", "nginx", "runc", "xz-utils", "liblzma5", "unattended-upgrades"}
	var status, main, security bytes.Buffer
	for i := range benchPackages {
		name := fmt.Sprintf("pkg%04d", i)
		if i < len(named) {
			name = named[i]
		}
		version := fmt.Sprintf("1.%d-1+deb12u1", i)
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: 123\nMaintainer: Bench <bench@example.invalid>\nArchitecture: amd64\nMulti-Arch: same\nSource: src%04d\nVersion: %s\nDepends: libc6 (>= 2.34), libfoo1 (>= 1.2)\nDescription: generated package %d\n A longer description that wraps\n over several lines, as real ones do.\n .\n And has paragraphs.\n\n", name, i, version, i)
		fmt.Fprintf(&main, "Package: %s\nVersion: %s\nInstalled-Size: 123\nMaintainer: Bench <bench@example.invalid>\nArchitecture: amd64\nDescription: generated\nDescription-md5: 0123456789abcdef0123456789abcdef\nSection: misc\nPriority: optional\nFilename: pool/main/p/%s/%s_%s_amd64.deb\nSize: 12345\nSHA256: %064d\n\n", name, version, name, name, version, i)
	}
	for i := range 4000 {
		name, version := fmt.Sprintf("other%04d", i), "2.0-1+deb12u1"
		if i < benchPackages && i%10 == 0 {
			name, version = fmt.Sprintf("pkg%04d", i), fmt.Sprintf("1.%d-1+deb12u2", i)
			if i < 11 {
				name = named[i]
			}
		}
		fmt.Fprintf(&security, "Package: %s\nVersion: %s\nInstalled-Size: 123\nMaintainer: Bench <bench@example.invalid>\nArchitecture: amd64\nDepends: libc6 (>= 2.34)\nDescription: generated\nDescription-md5: 0123456789abcdef0123456789abcdef\nSection: misc\nPriority: optional\nFilename: pool/updates/main/o/%s/%s_%s_amd64.deb\nSize: 12345\nSHA256: %064d\n\n", name, version, name, name, version, i)
	}
	release := func(suite, codename, label string) []byte {
		return []byte(fmt.Sprintf("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Debian\nLabel: %s\nSuite: %s\nCodename: %s\nDate: Thu, 26 Nov 2026 21:03:35 UTC\nSHA256:\n %064d 1 main/binary-amd64/Packages\n-----BEGIN PGP SIGNATURE-----\n\nx\n-----END PGP SIGNATURE-----\n", label, suite, codename, 0))
	}
	write("etc/os-release", []byte("ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"))
	write("var/lib/dpkg/status", status.Bytes())
	const lists = "var/lib/apt/lists/"
	write(lists+"deb.debian.org_debian_dists_bookworm_InRelease", release("oldstable", "bookworm", "Debian"))
	write(lists+"deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", lz(main.Bytes()))
	write(lists+"deb.debian.org_debian-security_dists_bookworm-security_InRelease", release("oldstable-security", "bookworm-security", "Debian-Security"))
	write(lists+"deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages.lz4", lz(security.Bytes()))
	write("etc/apt/sources.list.d/debian.sources", []byte("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n"))
	write("etc/apt/apt.conf.d/20auto-upgrades", []byte("APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"))
	write("etc/ssh/sshd_config", []byte("PermitRootLogin no\n"))
}

// BenchmarkFamily runs every check of the family on the generated 1,500-package root, with a
// fresh family (nothing memoised) per iteration, as one agent run does.
func BenchmarkFamily(b *testing.B) {
	root := b.TempDir()
	writeBenchRoot(b, root)
	h, err := host.New(host.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		for _, c := range checksAt(time.Now) {
			if res := checktest.Evaluate(h, c); res.Status == "error" {
				b.Fatalf("%s: %s", c.ID(), res.Message)
			}
		}
	}
}

// TestWriteBenchRoot writes the benchmark root to $SERVER_AUDIT_BENCH_ROOT, for timing the
// agent itself: server-audit run --dry-run --root DIR --only packages.
func TestWriteBenchRoot(t *testing.T) {
	dir := os.Getenv("SERVER_AUDIT_BENCH_ROOT")
	if dir == "" {
		t.Skip("set SERVER_AUDIT_BENCH_ROOT to write the benchmark root there")
	}
	writeBenchRoot(t, dir)
	t.Logf("benchmark root written to %s", dir)
}

// TestBenchRoot checks that the generated root means what the benchmark claims: every
// tenth installed package has a pending security update.
func TestBenchRoot(t *testing.T) {
	root := t.TempDir()
	writeBenchRoot(t, root)
	h, err := host.New(host.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var res checks.Result
	for _, c := range checksAt(time.Now) {
		if c.ID() == "packages.security-updates" {
			res = checktest.Evaluate(h, c)
		}
	}
	if res.Facts["pending"] != int64(benchPackages/10) {
		t.Fatalf("pending = %v, want %d (%s)", res.Facts["pending"], benchPackages/10, res.Message)
	}
}
