package vulndata

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/packages/dpkgver"
	"github.com/securecodehq/server-audit/checks/packages/rpmver"
)

func load(t *testing.T) *Data {
	t.Helper()
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEmbeddedData(t *testing.T) {
	d := load(t)
	if len(d.Entries) < 15 || len(d.CVEs()) < 15 {
		t.Fatalf("%d entries, %d CVEs: the issue asks for at least 15", len(d.Entries), len(d.CVEs()))
	}
	for _, cve := range []string{"CVE-2024-6387", "CVE-2024-3094", "CVE-2021-3156", "CVE-2021-4034", "CVE-2022-3602", "CVE-2024-21626", "CVE-2023-48795", "CVE-2023-4911", "CVE-2021-23017"} {
		if !slices.Contains(d.CVEs(), cve) {
			t.Errorf("%s missing from the data", cve)
		}
	}
	for _, e := range d.Entries {
		// A distribution's fixed version must order after its introduced version.
		if e.Introduced != "" && e.Distribution == Upstream && UpstreamCompare(UpstreamVersion(e.Introduced), UpstreamVersion(e.Fixed)) >= 0 {
			t.Errorf("%s %s: introduced %s is not before fixed %s", e.CVE, e.Package, e.Introduced, e.Fixed)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := `{"version":"1","date":"2026-01-01","entries":[{"cve":"CVE-2024-6387","package":"openssh","distribution":"debian","release":"12","fixed":"1:9.2p1-2+deb12u3","severity":"critical","source":"https://example.org/"}]}`
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("valid data refused: %v", err)
	}
	for name, bad := range map[string]string{
		"truncated":         good[:len(good)/2],
		"unknown field":     strings.Replace(good, `"cve"`, `"cwe":"x","cve"`, 1),
		"bad date":          strings.Replace(good, "2026-01-01", "2026-13-01", 1),
		"no version":        strings.Replace(good, `"version":"1"`, `"version":""`, 1),
		"bad cve":           strings.Replace(good, "CVE-2024-6387", "CVE-24-1", 1),
		"bad severity":      strings.Replace(good, "critical", "urgent", 1),
		"http source":       strings.Replace(good, "https://", "http://", 1),
		"no release":        strings.Replace(good, `"release":"12",`, "", 1),
		"bad distribution":  strings.Replace(good, `"debian"`, `"plan9"`, 1),
		"bad condition":     strings.Replace(good, `"severity"`, `"condition":"moon:full","severity"`, 1),
		"version injection": strings.Replace(good, "1:9.2p1-2+deb12u3", "1.0 && rm -rf /", 1),
		"no entries":        `{"version":"1","date":"2026-01-01","entries":[]}`,
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUpstreamVersion(t *testing.T) {
	for in, want := range map[string]string{
		"1:9.2p1-2+deb12u3":             "9.2p1",
		"5:24.0.7-1~debian.12~bookworm": "24.0.7",
		"1.0.0-rc93":                    "1.0.0~rc93",
		"v1.1.12":                       "1.1.12",
		"9.7_p1-r4":                     "9.7p1",
		"1.1.5+ds1-1+deb12u1":           "1.1.5",
		"1.25.3-1~bookworm":             "1.25.3",
		"8.7p1-38.el9_4.1":              "8.7p1",
	} {
		if got := UpstreamVersion(in); got != want {
			t.Errorf("UpstreamVersion(%q) = %q, want %q", in, got, want)
		}
	}
	if exactUpstream("5.6.1+really5.4.5-1") != "5.6.1+really5.4.5" || exactUpstream("5.6.1-1") != "5.6.1" {
		t.Error("exactUpstream must keep +really suffixes and drop the revision")
	}
}

func TestDistroBuild(t *testing.T) {
	for _, c := range []struct {
		name, version string
		want          bool
	}{
		{"openssh-server", "1:9.2p1-2+deb12u3", true},
		{"openssl", "3.0.19-1~deb12u2", true},
		{"nginx", "1.22.1-9+deb12u2", true},
		{"nginx", "1.25.3-1~bookworm", false},
		{"nginx", "1.24.0-1~jammy", false},
		{"nginx", "1.25.3-1.el9.ngx", false},
		{"docker-ce", "5:24.0.7-1~debian.12~bookworm", false},
		{"containerd.io", "1.6.28-1", false},
		{"openssh-server", "1:9.6p1-3ubuntu13.3", true},
		{"curl", "7.88.1-10+deb12u5~bpo11+1", true},
		{"openssh-server", "8.7p1-38.el9_4.1", true},
	} {
		if got := DistroBuild(c.name, c.version); got != c.want {
			t.Errorf("DistroBuild(%s, %s) = %v, want %v", c.name, c.version, got, c.want)
		}
	}
}

func TestMatch(t *testing.T) {
	d := load(t)
	deb12 := TargetOf("debian", nil, "12")
	cves := func(fs []Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Entry.CVE)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	server := func(v string) Installed { return Installed{Name: "openssh-server", Version: v, Source: "openssh"} }
	// The backported fix is not flagged although upstream 9.2p1 is in regreSSHion's range.
	if got := cves(d.Match(server("1:9.2p1-2+deb12u3"), deb12, dpkgver.Compare)); slices.Contains(got, "CVE-2024-6387") {
		t.Errorf("backported 1:9.2p1-2+deb12u3 flagged: %v", got)
	}
	if got := cves(d.Match(server("1:9.2p1-2+deb12u2"), deb12, dpkgver.Compare)); !slices.Contains(got, "CVE-2024-6387") || slices.Contains(got, "CVE-2023-48795") {
		t.Errorf("deb12u2: got %v, want regreSSHion and not Terrapin (fixed in deb12u2)", got)
	}
	// The client flaw is not reported for the server binary.
	if got := cves(d.Match(server("1:9.2p1-2+deb12u1"), deb12, dpkgver.Compare)); slices.Contains(got, "CVE-2023-38408") {
		t.Errorf("the openssh-client flaw matched openssh-server: %v", got)
	}
	// Another release's entries do not apply; Debian 11's openssh predates the bug.
	if got := d.Match(server("1:8.4p1-5+deb11u3"), TargetOf("debian", nil, "11"), dpkgver.Compare); len(got) != 0 {
		t.Errorf("Debian 11 openssh matched: %v", cves(got))
	}
	// Non-distribution builds are judged by upstream ranges only.
	nginxOrg := Installed{Name: "nginx", Version: "1.25.3-1~bookworm"}
	if got := cves(d.Match(nginxOrg, deb12, dpkgver.Compare)); !slices.Contains(got, "CVE-2024-7347") || !slices.Contains(got, "CVE-2025-23419") {
		t.Errorf("nginx.org 1.25.3: got %v", got)
	}
	if got := d.Match(Installed{Name: "nginx", Version: "1.26.3-1~bookworm"}, deb12, dpkgver.Compare); len(got) != 0 {
		t.Errorf("nginx.org 1.26.3 matched: %v", cves(got))
	}
	// The xz backdoor: the tarball versions in any build, not the +really rebuilds.
	if got := cves(d.Match(Installed{Name: "liblzma5", Version: "5.6.1-1", Source: "xz-utils"}, TargetOf("debian", nil, ""), dpkgver.Compare)); !slices.Equal(got, []string{"CVE-2024-3094"}) {
		t.Errorf("xz 5.6.1-1: got %v", got)
	}
	if got := d.Match(Installed{Name: "liblzma5", Version: "5.6.1+really5.4.5-1", Source: "xz-utils"}, TargetOf("ubuntu", nil, "24.04"), dpkgver.Compare); len(got) != 0 {
		t.Errorf("xz +really rebuild matched: %v", cves(got))
	}
	if got := d.Match(Installed{Name: "xz-libs", Version: "5.6.1-r0", Source: "xz"}, TargetOf("alpine", nil, "3.20.0"), dpkgver.Compare); len(got) != 0 {
		t.Errorf("Alpine xz matched although excluded: %v", cves(got))
	}
	// RHEL rebuilds share RHEL's entries and rpm ordering.
	rocky := TargetOf("rocky", []string{"rhel"}, "9.4")
	if got := cves(d.Match(Installed{Name: "openssh-server", Version: "8.7p1-38.el9", Source: "openssh"}, rocky, rpmver.Compare)); !slices.Contains(got, "CVE-2024-6387") {
		t.Errorf("Rocky 9 8.7p1-38.el9: got %v", got)
	}
	if got := d.Match(Installed{Name: "openssh-server", Version: "8.7p1-38.el9_4.1", Source: "openssh"}, rocky, rpmver.Compare); len(got) != 0 {
		t.Errorf("Rocky 9 8.7p1-38.el9_4.1 matched: %v", cves(got))
	}
	// Upstream matching of component versions.
	if got := cves(d.MatchUpstream("runc", "1.1.11")); !slices.Equal(got, []string{"CVE-2024-21626"}) {
		t.Errorf("runc 1.1.11: %v", got)
	}
	if got := cves(d.MatchUpstream("runc", "1.0.0-rc5")); !slices.Contains(got, "CVE-2019-5736") {
		t.Errorf("runc 1.0.0-rc5: %v", got)
	}
	if got := d.MatchUpstream("runc", "1.1.12"); len(got) != 0 {
		t.Errorf("runc 1.1.12 matched: %v", cves(got))
	}
	if got := cves(d.MatchUpstream("openssh-server", "9.3p1")); !slices.Contains(got, "CVE-2024-6387") || !slices.Contains(got, "CVE-2023-48795") {
		t.Errorf("sshd 9.3p1: %v", got)
	}
}

func TestTargetOf(t *testing.T) {
	for _, c := range []struct {
		id, version, family, release string
	}{
		{"debian", "12", "debian", "12"},
		{"ubuntu", "22.04", "ubuntu", "22.04"},
		{"rocky", "9.4", "rhel", "9"},
		{"almalinux", "8.10", "rhel", "8"},
		{"alpine", "3.19.1", "alpine", "3.19"},
		{"linuxmint", "21.3", "", ""},
	} {
		got := TargetOf(c.id, nil, c.version)
		if got.Family != c.family || got.Release != c.release {
			t.Errorf("TargetOf(%s, %s) = %+v", c.id, c.version, got)
		}
	}
}

func TestConditions(t *testing.T) {
	for _, s := range []string{CondSSHDLoginGraceTime, CondSSHDTerrapin, CondNginxHTTP2, "ssh_config:forwardagent=yes", "file_mode:/usr/bin/pkexec:setuid", "nginx_directive:mp4"} {
		c, err := ParseCondition(s)
		if err != nil || c.String() != s {
			t.Errorf("ParseCondition(%q) = %+v, %v (round trip %q)", s, c, err, c.String())
		}
	}
	for _, bad := range []string{"", "file_mode:relative:setuid", "file_mode:/a/../b:setuid", "nginx_directive:Mp4", "ssh_config:forwardagent=no"} {
		if _, err := ParseCondition(bad); err == nil {
			t.Errorf("ParseCondition(%q) accepted", bad)
		}
	}
	for _, c := range []struct {
		ciphers, macs string
		want          bool
	}{
		{"", "", true},
		{"aes256-gcm@openssh.com", "", false},
		{"chacha20-poly1305@openssh.com", "", true},
		{"aes256-cbc", "hmac-sha2-256", false},
		{"aes256-cbc", "hmac-sha2-256-etm@openssh.com", true},
		{"-chacha20-poly1305@openssh.com", "", false},
		{"+aes256-cbc", "", true},
	} {
		if got, _, _ := terrapinModes(c.ciphers, c.macs); got != c.want {
			t.Errorf("terrapinModes(%q, %q) = %v", c.ciphers, c.macs, got)
		}
	}
	for v, want := range map[string]bool{"0": true, "0s": true, "00m": true, "120": false, "2m": false, "": false} {
		if isZeroTime(v) != want {
			t.Errorf("isZeroTime(%q) = %v", v, !want)
		}
	}
}

func TestEvaluatorOnFiles(t *testing.T) {
	h, err := checktest.NewHost(filepath.Join("testdata", "exposure"), checktest.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &Evaluator{FS: h.FS()}
	for cond, want := range map[string]bool{
		CondSSHDLoginGraceTime:              false, // the drop-in sets 0 first; the main file's 60 comes later
		CondSSHDTerrapin:                    false,
		"ssh_config:forwardagent=yes":       true,
		"ssh_config:verifyhostkeydns=yes":   false,
		"nginx_directive:resolver":          true,
		"nginx_directive:mp4":               false, // only in a comment and a string
		"nginx_directive:ssl_verify_client": false,
		CondNginxHTTP2:                      true,
		"file_mode:/usr/bin/pkexec:setuid":  false,
	} {
		c, err := ParseCondition(cond)
		if err != nil {
			t.Fatal(err)
		}
		got, why, err := ev.Exposed(c)
		if err != nil || got != want {
			t.Errorf("%s: exposed %v (%s, %v), want %v", cond, got, why, err, want)
		}
	}
	ev.SSHD = func(key string) (string, bool) {
		return map[string]string{"logingracetime": "120"}[key], key == "logingracetime"
	}
	if got, _, _ := ev.Exposed(Condition{Kind: CondSSHDLoginGraceTime}); !got {
		t.Error("the effective configuration (SSHD) must win over the minimal reading")
	}
}

func TestNginxStatements(t *testing.T) {
	st := nginxStatements("# c mp4;\nhttp {\n  server { listen 443 ssl http2; location /a { return 200 \"mp4;\"; } }\n  resolver 127.0.0.1 'x y';\n}\n")
	var names []string
	for _, s := range st {
		names = append(names, s.name)
	}
	want := []string{"http", "server", "listen", "location", "return", "resolver"}
	if !slices.Equal(names, want) {
		t.Fatalf("statements %v, want %v", names, want)
	}
	if st[5].line != 4 || !slices.Equal(st[5].args, []string{"127.0.0.1", "x y"}) {
		t.Errorf("resolver statement = %+v", st[5])
	}
}

func FuzzParse(f *testing.F) {
	f.Add(embedded)
	f.Add([]byte(`{"version":"1","date":"2026-01-01","entries":[{"cve":"CVE-2024-6387","package":"openssh","distribution":"any","versions":["1"],"severity":"low","source":"https://x/"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		// Whatever parses must be usable by the matcher without panicking.
		_ = d.CVEs()
		_ = d.Match(Installed{Name: "openssh-server", Version: "1:9.2p1-2", Source: "openssh"}, TargetOf("debian", nil, "12"), dpkgver.Compare)
		_ = d.MatchUpstream("runc", "1.1.0")
		for _, e := range d.Entries {
			if e.Condition != "" {
				if _, err := ParseCondition(e.Condition); err != nil {
					t.Fatalf("validated entry has a bad condition: %v", err)
				}
			}
		}
	})
}

func FuzzNginxStatements(f *testing.F) {
	f.Add("http { server { listen 80; location / { mp4; } } }\n")
	f.Add("'unterminated\n# comment { ; }\n\"a\\\"b\";")
	f.Fuzz(func(t *testing.T, text string) {
		for _, s := range nginxStatements(text) {
			if s.name == "" || s.line < 1 {
				t.Fatalf("bad statement %+v", s)
			}
		}
	})
}
