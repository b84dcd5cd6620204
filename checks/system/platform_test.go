package system

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
)

func TestParseMountinfo(t *testing.T) {
	data := "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n" +
		"40 22 0:35 / /tmp rw,nosuid,nodev,noexec master:3 shared:20 - tmpfs tmpfs rw,size=2g\n" +
		"41 22 0:36 /a\\040b /mnt/with\\040space\\011tab ro - ext4 /dev/x rw\n" +
		"42 22 0:37 / /mnt/no-optional rw - tmpfs tmpfs rw\n"
	mounts, err := parseMountinfo([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 4 {
		t.Fatalf("got %d mounts, want 4", len(mounts))
	}
	if m := mounts[1]; m.point != "/tmp" || m.fsType != "tmpfs" || !m.options["noexec"] || !m.options["nodev"] || m.options["size=2g"] {
		t.Errorf("tmp entry = %+v (optional fields must be skipped, super options not mixed in)", m)
	}
	if m := mounts[2]; m.point != "/mnt/with space\ttab" || !m.options["ro"] {
		t.Errorf("escaped entry = %+v", m)
	}
	for _, bad := range []string{"22 1 254:1 / / rw\n", "1 2 3 4 5 6 7 8\n", "22 1 254:1 / / rw shared:1 -\n"} {
		if _, err := parseMountinfo([]byte(bad)); err == nil {
			t.Errorf("parseMountinfo(%q) accepted malformed input", bad)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:       "/plain",
		`/a\040b`:      "/a b",
		`/back\134sl`:  `/back\sl`,
		`/trailing\04`: `/trailing\04`,
		`/bad\9zz`:     `/bad\9zz`,
		`\040`:         " ",
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMountinfoMatchesFindmnt validates the mountinfo parser against util-linux findmnt on
// this machine: the same mount points with the same per-mount options.
func TestMountinfoMatchesFindmnt(t *testing.T) {
	findmnt := testenv.RequireTool(t, "findmnt")
	out, err := exec.Command(findmnt, "--raw", "--noheadings", "--kernel", "--output", "TARGET,VFS-OPTIONS").Output()
	if err != nil {
		t.Fatalf("findmnt: %v", err)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		target, opts, _ := strings.Cut(line, " ")
		want = append(want, unescapeFindmnt(target)+" "+sortedOptions(opts))
	}
	h, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := readMounts(h)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mounts {
		var opts []string
		for o := range m.options {
			opts = append(opts, o)
		}
		got = append(got, m.point+" "+sortedOptions(strings.Join(opts, ",")))
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(got) < 3 {
		t.Fatalf("only %d mounts parsed", len(got))
	}
	if !slices.Equal(got, want) {
		t.Errorf("parser and findmnt disagree\nparser:  %q\nfindmnt: %q", got, want)
	}
}

// unescapeFindmnt decodes findmnt --raw's \xHH escapes.
func unescapeFindmnt(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func sortedOptions(opts string) string {
	parts := strings.Split(opts, ",")
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func TestModprobeConfigPrecedence(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := mkdirWrite(p, content); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/modprobe.d/a.conf", "install hfs /sbin/modprobe --ignore-install hfs\nblacklist udf # trailing comment\n")
	write("etc/modprobe.d/b.conf", "install hfs /bin/false\ninstall cramfs /usr/bin/true\n")
	write("lib/modprobe.d/b.conf", "install jffs2 /bin/false\n") // hidden by etc/modprobe.d/b.conf
	write("lib/modprobe.d/c.conf", "install free-vxfs /bin/false\n")
	write("etc/modprobe.d/notes.txt", "install hfsplus /bin/false\n") // not *.conf
	h, err := checktest.NewHost(root, checktest.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := readModprobeConfig(h.FS())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.files != 3 {
		t.Errorf("read %d files, want 3", cfg.files)
	}
	for mod, want := range map[string]bool{"hfs": false, "cramfs": true, "jffs2": false, "free_vxfs": true, "hfsplus": false} {
		if got := cfg.installOff[mod] != ""; got != want {
			t.Errorf("%s disabled by install = %v, want %v", mod, got, want)
		}
	}
	if cfg.blacklisted["udf"] == "" {
		t.Error("udf blacklist with a trailing comment not recognised")
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add([]byte("22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"))
	f.Add([]byte("41 22 0:36 /a\\040b /mnt/x\\134 ro - ext4 /dev/x rw\n\n"))
	f.Add([]byte("- - - - - - -\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mounts, err := parseMountinfo(data)
		if err != nil {
			return
		}
		for _, m := range mounts {
			if m.options == nil {
				t.Fatal("parsed mount without options map")
			}
		}
	})
}
