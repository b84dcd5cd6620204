package pkgdb

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
)

// TestRPMFixturesMatchRPM checks the SQLite (with and without WAL) and Berkeley DB readers
// against rpm itself reading the same files (copies, since rpm may checkpoint a WAL).
// Packages.chksum is left out: rpm's bdb_ro backend refuses checksummed pages.
func TestRPMFixturesMatchRPM(t *testing.T) {
	rpm := testenv.RequireTool(t, "rpm")
	for _, tc := range []struct {
		name, backend string
		files         map[string]string // file in the dbpath → fixture
	}{
		{"sqlite", "sqlite", map[string]string{"rpmdb.sqlite": "rpm/rpmdb.sqlite"}},
		{"sqlite with WAL", "sqlite", map[string]string{"rpmdb.sqlite": "rpm/wal/rpmdb.sqlite", "rpmdb.sqlite-wal": "rpm/wal/rpmdb.sqlite-wal"}},
		{"bdb little-endian", "bdb_ro", map[string]string{"Packages": "rpm/Packages"}},
		{"bdb big-endian", "bdb_ro", map[string]string{"Packages": "rpm/Packages.be"}},
		{"bdb small", "bdb_ro", map[string]string{"Packages": "rpm/Packages.small"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), readFixture(t, src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Read ours first: rpm may checkpoint the WAL into the database when it closes.
			fsys, err := host.NewFS(dir)
			if err != nil {
				t.Fatal(err)
			}
			main := "/rpmdb.sqlite"
			read := readRPMSQLite
			if tc.backend == "bdb_ro" {
				main, read = "/Packages", readRPMBerkeley
			}
			db, err := read(fsys, main)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range db.Packages {
				evr := p.Version
				if !strings.Contains(evr, ":") {
					evr = "0:" + evr
				}
				src, srcVer := p.SourcePackage()
				if i := strings.IndexByte(srcVer, ':'); i >= 0 {
					srcVer = srcVer[i+1:]
				}
				got = append(got, strings.Join([]string{p.Name, evr, p.Arch, src + "-" + srcVer + ".src.rpm"}, " "))
			}
			out, err := exec.Command(rpm, "-qa", "--dbpath", dir, "--define", "_db_backend "+tc.backend,
				"--qf", `%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\n`).Output()
			if err != nil {
				t.Fatalf("rpm -qa: %v", err)
			}
			var want []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if !strings.HasPrefix(l, "gpg-pubkey ") {
					want = append(want, l)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("reader and rpm disagree:\nours:\n  %s\nrpm:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if len(want) < 2 {
				t.Errorf("rpm listed only %d packages", len(want))
			}
		})
	}
}

// TestDpkgMatchesDpkgQuery reads this machine's dpkg database through Read and compares it
// with dpkg-query: the same packages, versions, architectures, states and source packages.
func TestDpkgMatchesDpkgQuery(t *testing.T) {
	query := testenv.RequireTool(t, "dpkg-query")
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		testenv.Unavailable(t, "no dpkg database on this machine")
	}
	fsys, err := host.NewFS("/")
	if err != nil {
		t.Fatal(err)
	}
	compare := func() (got, want []string) {
		db, err := Read(fsys)
		if err != nil {
			t.Fatal(err)
		}
		if db.Manager != Dpkg {
			t.Fatalf("Read chose %s on a dpkg machine", db.Manager)
		}
		for _, p := range append(slices.Clone(db.Packages), db.Other...) {
			if p.State == "not-installed" {
				continue // dpkg-query -W leaves purged entries out
			}
			state := p.State
			if state == "" {
				state = "installed"
			}
			src, srcVer := p.SourcePackage()
			got = append(got, strings.Join([]string{p.Name, p.Version, p.Arch, state, src, srcVer}, " "))
		}
		out, err := exec.Command(query, "-W", "-f", `${Package} ${Version} ${Architecture} ${db:Status-Status} ${source:Package} ${source:Version}\n`).Output()
		if err != nil {
			t.Fatalf("dpkg-query: %v", err)
		}
		want = strings.Split(strings.TrimSpace(string(out)), "\n")
		slices.Sort(got)
		slices.Sort(want)
		return got, want
	}
	got, want := compare()
	if !slices.Equal(got, want) {
		got, want = compare() // once more, in case a package was being installed meanwhile
	}
	if !slices.Equal(got, want) {
		for _, l := range want {
			if !slices.Contains(got, l) {
				t.Errorf("dpkg-query only: %s", l)
			}
		}
		for _, l := range got {
			if !slices.Contains(want, l) {
				t.Errorf("reader only: %s", l)
			}
		}
	}
	t.Logf("%d packages agree with dpkg-query", len(got))
}
