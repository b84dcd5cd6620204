package system

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
)

func mkdirWrite(p, content string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// sudoersHost builds a host whose /etc/sudoers tree is files.
func sudoersHost(t *testing.T, files map[string]string) *sudoPolicy {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		if err := mkdirWrite(filepath.Join(root, name), content); err != nil {
			t.Fatal(err)
		}
	}
	h, err := checktest.NewHost(root, checktest.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := readSudoers(h.FS())
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

func TestSudoersRules(t *testing.T) {
	for _, tc := range []struct {
		name         string
		sudoers      string
		nopasswdAll  int
		noAuth       int
		wantWarnings int
	}{
		{"plain rule with password", "root ALL=(ALL:ALL) ALL\n", 0, 0, 0},
		{"nopasswd all", "bob ALL=(ALL) NOPASSWD: ALL\n", 1, 0, 0},
		{"nopasswd all no space", "bob ALL=(ALL)NOPASSWD:ALL\n", 1, 0, 0},
		{"nopasswd specific command", "bob ALL=(root) NOPASSWD: /usr/bin/id\n", 0, 0, 0},
		{"tag carries over", "bob ALL = NOPASSWD: /usr/bin/id, ALL\n", 1, 0, 0},
		{"PASSWD overrides", "bob ALL = NOPASSWD: /usr/bin/id, PASSWD: ALL\n", 0, 0, 0},
		{"runas list with comma", "bob ALL=(root, www-data) NOPASSWD: ALL\n", 1, 0, 0},
		{"several tags", "bob ALL=(ALL) SETENV: NOEXEC: NOPASSWD: ALL\n", 1, 0, 0},
		{"alias of ALL", "Cmnd_Alias EVERYTHING = /bin/ls, ALL\nbob ALL = NOPASSWD: EVERYTHING\n", 1, 0, 0},
		{"alias not ALL", "Cmnd_Alias SAFE = /bin/ls\nbob ALL = NOPASSWD: SAFE\n", 0, 0, 0},
		{"host group resets tags", "bob web = NOPASSWD: /bin/ls : db = ALL\n", 0, 0, 0},
		{"host group with its own tag", "bob web = /bin/ls : db = NOPASSWD: ALL\n", 1, 0, 0},
		{"continuation line", "bob ALL = (ALL) \\\n   NOPASSWD: ALL\n", 1, 0, 0},
		{"comment", "# bob ALL = NOPASSWD: ALL\n", 0, 0, 0},
		{"trailing comment", "bob ALL = (ALL) ALL # NOPASSWD: ALL\n", 0, 0, 0},
		{"numeric uid is not a comment", "#1000 ALL = NOPASSWD: ALL\n", 1, 0, 0},
		{"defaults !authenticate", "Defaults:bob !authenticate\n", 0, 1, 0},
		{"defaults list", "Defaults env_reset, !authenticate\n", 0, 1, 0},
		{"missing include warns", "@include /etc/sudoers.missing\n", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := sudoersHost(t, map[string]string{"etc/sudoers": tc.sudoers})
			if len(pol.nopasswdAll) != tc.nopasswdAll || len(pol.noAuthenticate) != tc.noAuth || len(pol.warnings) != tc.wantWarnings {
				t.Errorf("nopasswdAll=%v noAuthenticate=%v warnings=%v, want %d/%d/%d",
					pol.nopasswdAll, pol.noAuthenticate, pol.warnings, tc.nopasswdAll, tc.noAuth, tc.wantWarnings)
			}
		})
	}
}

func TestSudoersIncludes(t *testing.T) {
	pol := sudoersHost(t, map[string]string{
		"etc/sudoers":                     "root ALL=(ALL) ALL\n#includedir /etc/sudoers.d\n@include extra/rel\n@include /etc/sudoers\n",
		"etc/sudoers.d/10-ops":            "ops ALL=(ALL) NOPASSWD: ALL\n",
		"etc/sudoers.d/20-ops.bak":        "ignored ALL=(ALL) NOPASSWD: ALL\n",
		"etc/sudoers.d/30-ops~":           "ignored ALL=(ALL) NOPASSWD: ALL\n",
		"etc/sudoers.d/40-nested":         "@include /etc/sudoers.d/40-nested\n",
		"etc/extra/rel":                   "rel ALL=(ALL) NOPASSWD: ALL\n",
		"etc/sudoers.d/subdir/not-a-file": "ignored ALL=(ALL) NOPASSWD: ALL\n",
	})
	if pol.files != 4 {
		t.Errorf("read %d files, want 4 (sudoers, 10-ops, 40-nested, extra/rel)", pol.files)
	}
	if len(pol.nopasswdAll) != 2 {
		t.Errorf("nopasswdAll = %v, want the rules of 10-ops and extra/rel", pol.nopasswdAll)
	}
	loops := 0
	for _, w := range pol.warnings {
		if strings.Contains(w, "loop") {
			loops++
		}
	}
	if loops != 2 {
		t.Errorf("warnings = %v, want two include loops reported", pol.warnings)
	}
}

func TestLoginShell(t *testing.T) {
	for shell, want := range map[string]bool{
		"/bin/bash": true, "": true, "/usr/sbin/nologin": false, "/sbin/nologin": false,
		"/bin/false": false, "/usr/bin/false": false, "/bin/sh": true,
	} {
		if got := loginShell(shell); got != want {
			t.Errorf("loginShell(%q) = %v, want %v", shell, got, want)
		}
	}
}

func FuzzSudoersLine(f *testing.F) {
	for _, s := range []string{
		"bob ALL=(ALL) NOPASSWD: ALL", "Cmnd_Alias X = ALL", "Defaults !authenticate",
		"bob web = /bin/ls : db = NOPASSWD: ALL", "#include x", "bob ALL=(a,b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		p := &sudoPolicy{visited: map[string]bool{}, cmndAllAliases: map[string]bool{}}
		for _, l := range logicalLines(data) {
			line := stripSudoComment(l.text)
			if aliasDefinition.MatchString(line) {
				p.parseAlias(line)
			} else {
				p.grantsAllWithoutPassword(line)
			}
		}
	})
}

func FuzzColonFile(f *testing.F) {
	f.Add("root:x:0:0:root:/root:/bin/bash\n+::::::\n#c\n")
	f.Add("a:b\n::::::::\n")
	f.Fuzz(func(t *testing.T, data string) {
		root := t.TempDir()
		if err := mkdirWrite(filepath.Join(root, "etc/passwd"), data); err != nil {
			t.Fatal(err)
		}
		h, err := checktest.NewHost(root, checktest.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		records, _, err := readColonFile(h.FS(), "/etc/passwd", 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range records {
			if len(r.fields) < 7 {
				t.Fatalf("record with %d fields returned", len(r.fields))
			}
		}
	})
}
