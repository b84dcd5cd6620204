package packages

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/osrelease"
	"github.com/securecodehq/server-audit/internal/testenv"
)

// aptSecurityUpgrades parses `apt-get -s upgrade`: "Inst <pkg> [<old>] (<new> <origin>/<suite>, … [<arch>])"
// lines whose origins name a -security suite, as "name new" strings; and the names apt keeps
// back (listed after "The following packages have been kept back:").
func aptSecurityUpgrades(out string) (security, keptBack []string) {
	inKept := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "The following packages have been kept back"):
			inKept = true
			continue
		case inKept && strings.HasPrefix(line, "  "):
			keptBack = append(keptBack, strings.Fields(line)...)
			continue
		}
		inKept = false
		if !strings.HasPrefix(line, "Inst ") {
			continue
		}
		fields := strings.Fields(line)
		open := strings.IndexByte(line, '(')
		if len(fields) < 4 || open < 0 || !strings.HasPrefix(fields[2], "[") {
			continue // a new package, not an upgrade
		}
		origins := line[open:]
		if !strings.Contains(origins, "-security") {
			continue
		}
		candidate := strings.Fields(origins[1:])[0]
		name, _, _ := strings.Cut(fields[1], ":")
		security = append(security, name+" "+candidate)
	}
	return security, keptBack
}

// TestSecurityUpdatesMatchApt compares the pending security updates computed from the local
// apt lists with what apt itself would install from the security suite: `apt-get -s
// upgrade` with Debug::NoLocking, so that no lock is needed and nothing changes. Packages
// apt keeps back (an update that needs new dependencies) are pending for us and may be
// missing from apt's list.
func TestSecurityUpdatesMatchApt(t *testing.T) {
	aptGet := testenv.RequireTool(t, "apt-get")
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		testenv.Unavailable(t, "no dpkg database on this machine")
	}
	h, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := osrelease.Read(h.FS())
	if err != nil || (info.ID != "debian" && info.ID != "ubuntu") {
		testenv.Unavailable(t, "not a Debian or Ubuntu machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, aptGet, "-s", "-o", "Debug::NoLocking=1", "upgrade")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("apt-get -s upgrade: %v", err)
	}
	want, keptBack := aptSecurityUpgrades(string(out))

	f := &family{now: time.Now}
	inv, _ := collectInventory(ctx, h)
	if inv.dbErr != nil {
		t.Fatal(inv.dbErr)
	}
	st, _ := collectAptLists(ctx, h, inv)
	if st.err != nil {
		t.Fatal(st.err)
	}
	suites := 0
	for _, r := range st.releases {
		if r.security() {
			suites++
		}
	}
	if suites == 0 {
		testenv.Unavailable(t, "the apt lists hold no security suite (run apt-get update with a -security source)")
	}
	var got []string
	for _, u := range st.updates {
		if slices.Contains(keptBack, u.name) {
			continue
		}
		entry := u.name + " " + u.candidate
		if !slices.Contains(got, entry) {
			got = append(got, entry)
		}
	}
	slices.Sort(got)
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	if !slices.Equal(got, want) {
		t.Errorf("pending security updates differ from apt-get -s upgrade\nours: %q\napt:  %q", got, want)
	}
	age, _ := st.listAge(f)
	t.Logf("%d pending security updates agree with apt (%d kept back, lists %d days old)", len(got), len(keptBack), age)
}

func TestAptSecurityUpgradesParser(t *testing.T) {
	out := "Reading package lists...\nThe following packages have been kept back:\n  linux-image-amd64 foo\nThe following packages will be upgraded:\n  libssl3\n" +
		"Inst libssl3 [3.0.19-1~deb12u2] (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])\n" +
		"Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])\n" +
		"Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.15/oldstable [all])\n" +
		"Inst newpkg (1.0 Debian-Security:12/oldstable-security [amd64])\nConf libssl3 (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])\n"
	sec, kept := aptSecurityUpgrades(out)
	if !slices.Equal(sec, []string{"libssl3 3.0.22-1~deb12u2", "libgcrypt20 1.10.1-3+deb12u1"}) || !slices.Equal(kept, []string{"linux-image-amd64", "foo"}) {
		t.Errorf("security %q, kept back %q", sec, kept)
	}
}
