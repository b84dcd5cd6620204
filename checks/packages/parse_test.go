package packages

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks/packages/vulndata"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

func TestParsePackages(t *testing.T) {
	data := "Package: a\nVersion: 1.0-1\nArchitecture: amd64\nDescription: x\n continued: not a field\n .\n\n\nPackage: b\r\nVersion: 2\r\nArchitecture: all\r\n"
	var got []listEntry
	if err := parsePackages(strings.NewReader(data), func(e listEntry) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	want := []listEntry{{"a", "1.0-1", "amd64"}, {"b", "2", "all"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for name, bad := range map[string]string{
		"truncated stanza": "Package: a\nVersion: 1\n\nPackage: b\nVers",
		"no version":       "Package: a\nArchitecture: all\n",
		"not a field":      "Package: a\nVersion: 1\ngarbage\n",
		"empty key":        ": x\n",
	} {
		if err := parsePackages(strings.NewReader(bad), func(listEntry) {}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseRelease(t *testing.T) {
	signed := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Debian\nLabel: Debian-Security\nSuite: oldstable-security\nCodename: bookworm-security\nSHA256:\n abc 12 main/binary-amd64/Packages\n-----BEGIN PGP SIGNATURE-----\n\nxyz\n-----END PGP SIGNATURE-----\n"
	r, err := parseRelease([]byte(signed))
	if err != nil {
		t.Fatal(err)
	}
	if r.suite != "oldstable-security" || r.codename != "bookworm-security" || !r.security() {
		t.Errorf("parsed %+v", r)
	}
	// Debian 10's security suite is named buster/updates; its label tells it.
	old, err := parseRelease([]byte("Origin: Debian\nLabel: Debian-Security\nSuite: oldoldstable\nCodename: buster\n"))
	if err != nil || !old.security() {
		t.Errorf("buster/updates: %+v, %v", old, err)
	}
	main, _ := parseRelease([]byte("Origin: Ubuntu\nSuite: jammy-updates\nCodename: jammy\n"))
	if main.security() {
		t.Error("jammy-updates is not a security suite")
	}
	for _, bad := range []string{"", "Origin Debian\n", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256", "Origin: x\nLabel: y\n"} {
		if _, err := parseRelease([]byte(bad)); err == nil {
			t.Errorf("parseRelease(%q) accepted", bad)
		}
	}
}

func TestParseOneLineSources(t *testing.T) {
	data := "# deb http://security.debian.org/debian-security bookworm-security main\n" +
		"deb [ arch=amd64 signed-by=/k.gpg ] http://deb.debian.org/debian bookworm main\n" +
		"deb\thttp://deb.debian.org/debian-security  bookworm-security main # trailing\n" +
		"deb-src [trusted=yes] http://x.invalid/ ./\n"
	got, err := parseOneLineSources("/etc/apt/sources.list", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d entries, want 3 (the commented one does not count)", len(got))
	}
	if got[1].suites[0] != "bookworm-security" || got[1].where != "/etc/apt/sources.list:3" || got[0].trusted || !got[2].trusted {
		t.Errorf("entries %+v", got)
	}
	for _, bad := range []string{"deb http://x\n", "deb [trusted=yes http://x y\n", "rpm http://x y\n"} {
		if _, err := parseOneLineSources("f", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseDeb822Sources(t *testing.T) {
	data := "# comment\nTypes: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n bookworm-updates\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n xyz\n\n" +
		"Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nEnabled: no\n\n" +
		"Types: deb\nURIs: http://x.invalid/\nSuites: stable\nTrusted: yes\n"
	got, err := parseDeb822Sources("/etc/apt/sources.list.d/x.sources", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d stanzas, want 2 (Enabled: no does not count)", len(got))
	}
	if !slices.Equal(got[0].suites, []string{"bookworm", "bookworm-updates"}) || !slices.Equal(got[0].types, []string{"deb", "deb-src"}) || !got[1].trusted || got[0].trusted {
		t.Errorf("stanzas %+v", got)
	}
	for _, bad := range []string{"Types: deb\nURIs: http://x\n", " continuation first\n", "Types deb\n", "Types: rpm\nURIs: x\nSuites: y\n"} {
		if _, err := parseDeb822Sources("f", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSecuritySuite(t *testing.T) {
	for _, c := range []struct {
		suite, codename string
		want            bool
	}{
		{"bookworm-security", "bookworm", true},
		{"bullseye-security", "bookworm", false},
		{"buster/updates", "buster", true},
		{"noble-security", "noble", true},
		{"noble-updates", "noble", false},
		{"stable-security", "trixie", true},
		{"jammy-security", "", true},
	} {
		if got := securitySuite(c.suite, c.codename); got != c.want {
			t.Errorf("securitySuite(%s, %s) = %v", c.suite, c.codename, got)
		}
	}
}

func TestParseAptConf(t *testing.T) {
	conf := aptConfig{}
	first := "// comment\nAPT::Periodic::Unattended-Upgrade \"1\";\nAPT { Periodic { Update-Package-Lists \"1\"; }; };\n" +
		"/* multi\nline */ Unattended-Upgrade::Origins-Pattern { \"origin=Debian\"; \"o=x\"; };\n# hash comment\n"
	if err := parseAptConf("a", first, conf); err != nil {
		t.Fatal(err)
	}
	if err := parseAptConf("b", "apt::periodic::unattended-upgrade \"0\"; // later wins\n#clear Unattended-Upgrade::Origins-Pattern;\n", conf); err != nil {
		t.Fatal(err)
	}
	if v, _ := conf.get("APT::Periodic::Unattended-Upgrade"); v.value != "0" || v.where != "b:1" {
		t.Errorf("Unattended-Upgrade = %+v, want the later file's 0", v)
	}
	if v, ok := conf.get("APT::Periodic::Update-Package-Lists"); !ok || v.value != "1" {
		t.Errorf("scoped Update-Package-Lists = %+v", v)
	}
	if _, ok := conf.get("Unattended-Upgrade::Origins-Pattern::"); ok {
		t.Error("#clear left the list")
	}
	for _, bad := range []string{"A { B \"1\";\n", "A \"1\"; };", "A \"unterminated;\n", "/* open", "A B C;", "{ x; };"} {
		if err := parseAptConf("f", bad, aptConfig{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for name, ignored := range map[string]bool{"20auto-upgrades": false, "50unattended-upgrades.dpkg-old": true, "x.bak": true, "has space": true, "99local.conf": false} {
		if ignoredAptConfPart(name) != ignored {
			t.Errorf("ignoredAptConfPart(%q) = %v", name, !ignored)
		}
	}
}

func TestParseINI(t *testing.T) {
	ini, err := parseINI("r", "# c\n[main]\ngpgcheck = 1\n; c\n[epel]\nbaseurl=http://a\n  http://b\ngpgcheck=0\n")
	if err != nil {
		t.Fatal(err)
	}
	if ini["main"]["gpgcheck"] != "1" || ini["epel"]["gpgcheck"] != "0" || ini["epel"]["baseurl"] != "http://a http://b" {
		t.Errorf("parsed %+v", ini)
	}
	for _, bad := range []string{"gpgcheck=1\n", "[main\n", "[main]\nnot a pair\n", " continuation\n"} {
		if _, err := parseINI("r", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEOLTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range eolTable() {
		std, err1 := time.Parse(time.DateOnly, r.standard)
		ext, err2 := time.Parse(time.DateOnly, r.extended)
		if err1 != nil || err2 != nil || ext.Before(std) {
			t.Errorf("%v %s: standard %s extended %s", r.ids, r.release, r.standard, r.extended)
		}
		if (r.extendedName == "") != (r.standard == r.extended) {
			t.Errorf("%v %s: an extended programme needs a name and a later date", r.ids, r.release)
		}
		for _, id := range r.ids {
			key := id + " " + r.release
			if seen[key] {
				t.Errorf("%s listed twice", key)
			}
			seen[key] = true
		}
	}
	for _, c := range []struct{ id, version, release string }{
		{"debian", "12", "12"}, {"ubuntu", "24.04", "24.04"}, {"rocky", "9.4", "9"}, {"rhel", "8.10", "8"},
		{"alpine", "3.19.1", "3.19"}, {"amzn", "2023", "2023"}, {"centos", "7", "7"}, {"fedora", "40", "40"},
	} {
		r, ok := lookupEOL(c.id, c.version)
		if !ok || r.release != c.release {
			t.Errorf("lookupEOL(%s, %s) = %+v, %v", c.id, c.version, r, ok)
		}
	}
	if _, ok := lookupEOL("ubuntu", "24"); ok {
		t.Error("a bare Ubuntu major version must not match")
	}
}

// TestCatalogCoversData keeps the catalog's enum values in step with the data and the
// declared lists: a CVE or package name the catalog does not declare would be sent as
// "other".
func TestCatalogCoversData(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	data, err := vulndata.Load()
	if err != nil {
		t.Fatal(err)
	}
	var cves []string
	for _, c := range data.CVEs() {
		cves = append(cves, vulndata.EnumID(c))
	}
	need := map[string]map[string][]string{
		"packages.vulnerable-versions": {"cves": cves, "packages": data.Packages()},
		"ssh.vulnerable-build":         {"cves": cves, "packages": data.Packages()},
		"docker.vulnerable-engine":     {"cves": cves, "packages": data.Packages()},
		"packages.security-updates":    {"watched_packages": append(watchList(), "linux-image")},
		"packages.legacy-insecure":     {"servers": legacyServers(), "clients": legacyClients()},
	}
	for id, facts := range need {
		e, ok := cat.Lookup(id)
		if !ok {
			t.Errorf("%s has no catalog entry", id)
			continue
		}
		for key, values := range facts {
			declared := e.Facts[key].Values
			for _, v := range values {
				if !slices.Contains(declared, v) {
					t.Errorf("%s fact %s does not declare %q", id, key, v)
				}
			}
		}
	}
}

func FuzzParsePackages(f *testing.F) {
	f.Add([]byte("Package: a\nVersion: 1\nArchitecture: all\n\nPackage: b\nVersion: 2\n"))
	f.Add([]byte("Package: a\n Version: 1\n"))
	f.Add([]byte("\n\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = parsePackages(bytes.NewReader(data), func(e listEntry) {
			if e.name == "" || e.version == "" {
				t.Fatalf("entry without name or version: %+v", e)
			}
			if strings.ContainsAny(e.name+e.version, "\n") {
				t.Fatalf("field value spans lines: %+v", e)
			}
		})
	})
}

func FuzzParseRelease(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x-security\n-----BEGIN PGP SIGNATURE-----\n"))
	f.Add([]byte("Codename: bookworm\nSHA256:\n a 1 b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRelease(data)
		if err == nil && r.suite == "" && r.codename == "" {
			t.Fatal("accepted a Release without Suite and Codename")
		}
	})
}

func FuzzParseOneLineSources(f *testing.F) {
	f.Add("deb [trusted=yes arch=amd64] http://x/ bookworm main # c\n#deb http://y z\n")
	f.Add("deb-src http://x ./\n")
	f.Fuzz(func(t *testing.T, data string) {
		got, err := parseOneLineSources("f", data)
		if err != nil {
			return
		}
		for _, s := range got {
			if len(s.uris) != 1 || len(s.suites) != 1 {
				t.Fatalf("entry %+v", s)
			}
		}
	})
}

func FuzzParseDeb822Sources(f *testing.F) {
	f.Add("Types: deb\nURIs: http://x\nSuites: a b\nEnabled: yes\nTrusted: no\n\n# c\nTypes: deb-src\nURIs: y\nSuites: z\n")
	f.Add("Types: deb\n .\n")
	f.Fuzz(func(t *testing.T, data string) {
		got, err := parseDeb822Sources("f", data)
		if err != nil {
			return
		}
		for _, s := range got {
			if len(s.types) == 0 || len(s.uris) == 0 || len(s.suites) == 0 {
				t.Fatalf("stanza %+v", s)
			}
		}
	})
}

func FuzzParseAptConf(f *testing.F) {
	f.Add("APT { Periodic { Unattended-Upgrade \"1\"; }; };\n#clear APT;\n// x\n/* y */ A::B \"c\";\n")
	f.Add("DPkg::Post-Invoke { \"rm -f /x || true\"; };\n#include \"/etc/x\";\n")
	f.Fuzz(func(t *testing.T, data string) {
		conf := aptConfig{}
		if err := parseAptConf("f", data, conf); err != nil {
			return
		}
		for k := range conf {
			if k != strings.ToLower(k) {
				t.Fatalf("key %q not lower-cased", k)
			}
		}
	})
}

func FuzzParseINI(f *testing.F) {
	f.Add("[main]\ngpgcheck=1\n[r]\nbaseurl=a\n b\n")
	f.Fuzz(func(t *testing.T, data string) {
		_, _ = parseINI("f", data)
	})
}
