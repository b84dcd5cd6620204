package ssh

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
)

func mustParse(t *testing.T, files map[string]string, v Version) *parsed {
	t.Helper()
	p, err := parseFiles(t, files, v)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

func one(p *parsed, key string) string {
	if v := p.values[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func TestStrdelim(t *testing.T) {
	for _, tc := range []struct{ in, tok, rest string }{
		{"Port 22", "Port", "22"},
		{"Port=22", "Port", "22"},
		{"Port = 22", "Port", "22"},
		{"Port  =  22", "Port", "22"},
		{"Port==22", "Port", "=22"},
		{`"Port" 22`, "Port", "22"},
		{`a"b c"d e`, "ab c", "d e"},
		{"\tPort 22", "", "Port 22"},
	} {
		s := tc.in
		rest := &s
		tok, ok := strdelim(&rest)
		if !ok || tok != tc.tok || rest == nil || *rest != tc.rest {
			got := "<nil>"
			if rest != nil {
				got = *rest
			}
			t.Errorf("strdelim(%q) = %q, %q, %v; want %q, %q", tc.in, tok, got, ok, tc.tok, tc.rest)
		}
	}
	s := `"unterminated value`
	rest := &s
	if _, ok := strdelim(&rest); ok {
		t.Error("strdelim accepted an unterminated quote")
	}
	s = "Port"
	rest = &s
	if tok, _ := strdelim(&rest); tok != "Port" || rest != nil {
		t.Errorf("strdelim of a lone token left %v", rest)
	}
}

func TestArgvSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a b\tc", []string{"a", "b", "c"}},
		{`"a b" c`, []string{"a b", "c"}},
		{`'a "b"' c`, []string{`a "b"`, "c"}},
		{`a\ b c`, []string{"a b", "c"}},
		{`a\\b \"q\"`, []string{`a\b`, `"q"`}},
		{`x"y z"w`, []string{"xy zw"}},
		{`a # comment`, []string{"a"}},
		{`a#b`, []string{"a#b"}},
		{`""`, []string{""}},
		{`a\x`, []string{`a\x`}},
	} {
		got, err := argvSplit(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("argvSplit(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := argvSplit(`"open`); err == nil {
		t.Error("argvSplit accepted an unterminated quote")
	}
}

func TestParserFirstValueWins(t *testing.T) {
	p := mustParse(t, map[string]string{"/etc/ssh/sshd_config": `
# first obtained value wins for single-valued keywords
PermitRootLogin no
PERMITROOTLOGIN yes
permitrootlogin=prohibit-password
Port 22
Port 2222
AllowUsers alice bob
AllowUsers carol
MaxStartups 5:50:20
MaxStartups 8
LoginGraceTime 1m30s
`}, Version{})
	if got := one(p, "permitrootlogin"); got != "no" {
		t.Errorf("permitrootlogin = %q, want the first value no", got)
	}
	if got := p.values["port"]; !slices.Equal(got, []string{"22", "2222"}) {
		t.Errorf("port = %q, want both ports", got)
	}
	if got := p.values["allowusers"]; !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("allowusers = %q, want the accumulated list", got)
	}
	// MaxStartups is the exception: every line overwrites, a single number keeps the rate.
	if got := one(p, "maxstartups"); got != "8:50:8" {
		t.Errorf("maxstartups = %q, want 8:50:8", got)
	}
	if got := one(p, "logingracetime"); got != "90" {
		t.Errorf("logingracetime = %q, want 90", got)
	}
}

func TestParserInclude(t *testing.T) {
	files := map[string]string{
		"/etc/ssh/sshd_config": "Include sshd_config.d/*.conf\nPasswordAuthentication no\nX11Forwarding yes\nMatch Group admins\n  Include /etc/ssh/admins/*.conf\n",
		// Relative patterns are relative to /etc/ssh and expand in sorted order.
		"/etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\nMaxAuthTries 5\n",
		"/etc/ssh/sshd_config.d/10-base.conf":       "MaxAuthTries 3\nInclude nested/*.conf\n",
		"/etc/ssh/nested/a.conf":                    "LoginGraceTime 20\n",
		"/etc/ssh/sshd_config.d/.hidden.conf":       "X11Forwarding no\n",
		"/etc/ssh/sshd_config.d/README":             "this is not a configuration file\n",
		// Included from an inactive Match: does not apply.
		"/etc/ssh/admins/fwd.conf": "AllowTcpForwarding no\n",
	}
	p := mustParse(t, files, Version{})
	for key, want := range map[string]string{
		"passwordauthentication": "yes", // the drop-in comes first
		"maxauthtries":           "3",   // 10-base.conf sorts before 50-cloud-init.conf
		"logingracetime":         "20",  // nested include, relative to /etc/ssh
		"x11forwarding":          "yes", // hidden files are not matched by *
		"allowtcpforwarding":     "yes", // inside a Match for a group the probe is not in
	} {
		if got := one(p, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	want := []string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/10-base.conf", "/etc/ssh/nested/a.conf", "/etc/ssh/sshd_config.d/50-cloud-init.conf", "/etc/ssh/admins/fwd.conf"}
	if !slices.Equal(p.files, want) {
		t.Errorf("files = %q, want %q", p.files, want)
	}
	if !slices.Contains(p.dirs, "/etc/ssh/sshd_config.d") {
		t.Errorf("dirs = %q, want the drop-in directory", p.dirs)
	}
}

func TestParserIncludeErrors(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"loop":          {"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n"},
		"no argument":   {"/etc/ssh/sshd_config": "Include\n"},
		"empty pattern": {"/etc/ssh/sshd_config": `Include ""` + "\n"},
		"global in included Match": {
			"/etc/ssh/sshd_config": "Match User x\nInclude /etc/ssh/x.conf\n",
			"/etc/ssh/x.conf":      "Ciphers aes128-ctr\n",
		},
	} {
		if _, err := parseFiles(t, files, Version{}); !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: err = %v, want a parse error", name, err)
		}
	}
	// A pattern without matches is not an error.
	if _, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": "Include /nonexistent/*.conf\n"}, Version{}); err != nil {
		t.Errorf("no-match include: %v", err)
	}
}

func TestParserMatch(t *testing.T) {
	for _, tc := range []struct {
		criteria string
		applies  bool
	}{
		{"User sa-audit-probe", true},
		{"User sa-*", true},
		{"User root", false},
		{"User !root", false}, // a list of negations alone never matches
		{"User *,!root", true},
		{"User *,!sa-audit-probe", false},
		{"Group sa-audit-probe", false}, // the probe account does not exist
		{"Host *.invalid", true},
		{"Host *.INVALID", true}, // host patterns are case-insensitive
		{"Host other.example", false},
		{"Address 198.51.100.0/24", true},
		{"Address 198.51.100.*", true},
		{"Address 10.0.0.0/8", false},
		{"Address !198.51.100.0/24,*", false},
		{"Address !10.0.0.0/8,0.0.0.0/0", true},
		{"LocalAddress 192.0.2.0/24", true},
		{"LocalPort 22", true},
		{"LocalPort 2222", false},
		{"RDomain vrf1", false},
		{"All", true},
		{"User sa-audit-probe Address 10.0.0.0/8", false}, // criteria are ANDed
		{"user=sa-audit-probe", true},
		{"User sa-audit-probe # comment", true},
	} {
		p, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": "PasswordAuthentication yes\nMatch " + tc.criteria + "\n  PasswordAuthentication no\n"}, Version{})
		if err != nil {
			t.Errorf("Match %s: %v", tc.criteria, err)
			continue
		}
		if got := one(p, "passwordauthentication") == "no"; got != tc.applies {
			t.Errorf("Match %s applies = %v, want %v", tc.criteria, got, tc.applies)
		}
	}
	for _, bad := range []string{"Address 10.0.0.1/8", "Address 10.0.0.0/33", "Bogus x", "User", "All User x", "LocalPort notaport", ""} {
		if _, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": "Match " + bad + "\n"}, Version{}); !errors.Is(err, checks.ErrParse) {
			t.Errorf("Match %q: err = %v, want a parse error", bad, err)
		}
	}
}

func TestParserMatchSemantics(t *testing.T) {
	// A global keyword after Match is an error, except after Match All, where it applies.
	if _, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": "Match User x\nCiphers aes128-ctr\n"}, Version{}); !errors.Is(err, checks.ErrParse) {
		t.Errorf("global keyword after Match: err = %v", err)
	}
	p := mustParse(t, map[string]string{"/etc/ssh/sshd_config": "Match All\nCiphers aes128-ctr\nMaxStartups 5\n"}, Version{})
	if one(p, "ciphers") != "aes128-ctr" || one(p, "maxstartups") != "5:30:5" {
		t.Errorf("after Match All: ciphers %q, maxstartups %q", one(p, "ciphers"), one(p, "maxstartups"))
	}
	// A matching block overrides an earlier global value; lists are replaced, not merged.
	p = mustParse(t, map[string]string{"/etc/ssh/sshd_config": "PermitRootLogin yes\nAllowUsers alice\nMatch User sa-audit-probe\n PermitRootLogin no\n AllowUsers bob\nMatch All\n PermitRootLogin forced-commands-only\n"}, Version{})
	if one(p, "permitrootlogin") != "no" || !slices.Equal(p.values["allowusers"], []string{"bob"}) {
		t.Errorf("Match override: permitrootlogin %q, allowusers %q", one(p, "permitrootlogin"), p.values["allowusers"])
	}
	// An included file's Match does not leak into the including file.
	p = mustParse(t, map[string]string{
		"/etc/ssh/sshd_config": "Include /etc/ssh/a.conf\nX11Forwarding yes\n",
		"/etc/ssh/a.conf":      "Match User nobody\n  PasswordAuthentication no\n",
	}, Version{})
	if one(p, "x11forwarding") != "yes" {
		t.Errorf("Match state leaked out of an included file: x11forwarding %q", one(p, "x11forwarding"))
	}
}

func TestParserRejects(t *testing.T) {
	for _, line := range []string{
		"PermitRootLogin maybe", "PasswordAuthentication true", "NoSuchKeyword yes", "MaxAuthTries -1",
		"MaxAuthTries 3x", "LoginGraceTime 5y", "MaxStartups 20:30:10", "MaxStartups 10:0:60", "Port 0",
		"Port 70000", "PermitTunnel YES", "LogLevel LOUD", "Ciphers arcfour", "Ciphers +aes*", "MACs hmac-bogus",
		"KexAlgorithms bogus", "HostKeyAlgorithms ssh-bogus", "HostKeyAlgorithms !ssh-rsa", "AllowUsers x@10.0.0.1/8",
		"PermitRootLogin no extra", "PermitRootLogin", `PermitRootLogin "no`, "Subsystem sftp x\nSubsystem sftp y",
		"AcceptEnv A=B", "X11Forwarding",
	} {
		if _, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": line + "\n"}, Version{}); !errors.Is(err, checks.ErrParse) {
			t.Errorf("%q: err = %v, want a parse error", line, err)
		}
	}
	if _, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": "Port 22\x00\n"}, Version{}); err == nil {
		t.Error("a NUL byte was accepted")
	}
}

func TestAssembleNames(t *testing.T) {
	def := []string{"a-ctr", "b-gcm", "c-ctr"}
	all := []string{"x-cbc", "a-ctr", "b-gcm", "c-ctr", "y-cbc"}
	for _, tc := range []struct {
		list string
		want string
	}{
		{"", "a-ctr,b-gcm,c-ctr"},
		{"+x-cbc", "a-ctr,b-gcm,c-ctr,x-cbc"},
		{"+a-ctr,y-cbc", "a-ctr,b-gcm,c-ctr,y-cbc"},
		{"-*-ctr", "b-gcm"},
		{"-b-gcm,c-ctr", "a-ctr"},
		{"^y-cbc", "y-cbc,a-ctr,b-gcm,c-ctr"},
		{"^c-ctr", "c-ctr,a-ctr,b-gcm"},
		{"c-ctr,a-ctr", "c-ctr,a-ctr"},
		{"*-cbc", "x-cbc,y-cbc"},
		{"-*", ""},
	} {
		got, err := assembleNames(tc.list, def, all)
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("assembleNames(%q) = %q, %v; want %q", tc.list, got, err, tc.want)
		}
	}
	for _, bad := range []string{"!a-ctr", "nothing-matches"} {
		if _, err := assembleNames(bad, def, all); err == nil {
			t.Errorf("assembleNames(%q) accepted", bad)
		}
	}
}

func TestDefaultsPerVersion(t *testing.T) {
	empty := map[string]string{"/etc/ssh/sshd_config": "# nothing set\n"}
	for _, tc := range []struct {
		v                      Version
		kexFirst, kbd          string
		kexHas, hostKeyHas     string
		kexLacks, hostKeyLacks string
		cipherSecond           string
	}{
		{v: Version{Major: 7, Minor: 4}, kexFirst: "curve25519-sha256", kbd: "no", kexHas: "diffie-hellman-group14-sha1", hostKeyHas: "ssh-rsa", cipherSecond: "aes128-ctr"},
		{v: Version{Major: 8, Minor: 4}, kexFirst: "curve25519-sha256", kbd: "no", kexHas: "diffie-hellman-group14-sha256", kexLacks: "diffie-hellman-group14-sha1", hostKeyHas: "ssh-rsa", cipherSecond: "aes128-ctr"},
		{v: Version{Major: 8, Minor: 9}, kexFirst: "curve25519-sha256", kbd: "yes", kexHas: "sntrup761x25519-sha512@openssh.com", hostKeyLacks: "ssh-rsa", cipherSecond: "aes128-ctr"},
		{v: Version{Major: 9, Minor: 2}, kexFirst: "sntrup761x25519-sha512@openssh.com", kbd: "yes", hostKeyLacks: "ssh-rsa", cipherSecond: "aes128-ctr"},
		{v: Version{Major: 9, Minor: 9}, kexFirst: "sntrup761x25519-sha512", kbd: "yes", kexHas: "mlkem768x25519-sha256", cipherSecond: "aes128-ctr"},
		{v: Version{Major: 10, Minor: 0}, kexFirst: "mlkem768x25519-sha256", kbd: "yes", kexLacks: "diffie-hellman-group16-sha512", cipherSecond: "aes128-gcm@openssh.com"},
	} {
		p := mustParse(t, empty, tc.v)
		kex := strings.Split(one(p, "kexalgorithms"), ",")
		hk := strings.Split(one(p, "hostkeyalgorithms"), ",")
		ciphers := strings.Split(one(p, "ciphers"), ",")
		if kex[0] != tc.kexFirst {
			t.Errorf("%s: first kex %q, want %q", tc.v, kex[0], tc.kexFirst)
		}
		if one(p, "kbdinteractiveauthentication") != tc.kbd {
			t.Errorf("%s: kbdinteractiveauthentication %q, want %q", tc.v, one(p, "kbdinteractiveauthentication"), tc.kbd)
		}
		if tc.kexHas != "" && !slices.Contains(kex, tc.kexHas) {
			t.Errorf("%s: kex lacks %s", tc.v, tc.kexHas)
		}
		if tc.kexLacks != "" && slices.Contains(kex, tc.kexLacks) {
			t.Errorf("%s: kex has %s", tc.v, tc.kexLacks)
		}
		if tc.hostKeyHas != "" && !slices.Contains(hk, tc.hostKeyHas) {
			t.Errorf("%s: hostkeyalgorithms lacks %s", tc.v, tc.hostKeyHas)
		}
		if tc.hostKeyLacks != "" && slices.Contains(hk, tc.hostKeyLacks) {
			t.Errorf("%s: hostkeyalgorithms has %s", tc.v, tc.hostKeyLacks)
		}
		if len(ciphers) < 2 || ciphers[1] != tc.cipherSecond {
			t.Errorf("%s: ciphers %q, want %s second", tc.v, ciphers, tc.cipherSecond)
		}
		if !tc.v.AtLeast(8, 7) && one(p, "challengeresponseauthentication") != "yes" {
			t.Errorf("%s: challengeresponseauthentication %q, want the separate default yes", tc.v, one(p, "challengeresponseauthentication"))
		}
		for key, want := range map[string]string{"permitrootlogin": "without-password", "maxauthtries": "6", "logingracetime": "120", "maxstartups": "10:30:100", "x11forwarding": "no", "usepam": "no"} {
			if got := one(p, key); got != want {
				t.Errorf("%s: default %s = %q, want %q", tc.v, key, got, want)
			}
		}
	}
	// Include arrived in 8.2: older releases reject it.
	if _, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": "Include /x\n"}, Version{Major: 7, Minor: 9}); !errors.Is(err, checks.ErrParse) {
		t.Errorf("Include on 7.9: err = %v", err)
	}
	// Debian 12's build knows the standard sntrup761 name and puts it first.
	a := algorithmsFor(Version{Major: 9, Minor: 2}, buildInfo{names: map[string]bool{"sntrup761x25519-sha512": true}})
	if a.defKex[0] != "sntrup761x25519-sha512" || a.defKex[1] != "sntrup761x25519-sha512@openssh.com" {
		t.Errorf("backported kex defaults = %q", a.defKex)
	}
}

func TestParserUnknownKeywordOnNewerRelease(t *testing.T) {
	p, err := parseFiles(t, map[string]string{"/etc/ssh/sshd_config": "FutureOption yes\nPermitRootLogin no\n"}, Version{Major: 11, Minor: 0})
	if err != nil {
		t.Fatalf("a keyword unknown to the parser on a newer release: %v", err)
	}
	if len(p.warnings) != 1 || one(p, "permitrootlogin") != "no" {
		t.Errorf("warnings %q, permitrootlogin %q", p.warnings, one(p, "permitrootlogin"))
	}
}

func TestMatchHelpers(t *testing.T) {
	for _, tc := range []struct {
		s, pattern string
		want       bool
	}{
		{"abc", "a*c", true}, {"abc", "a?c", true}, {"abc", "a*d", false}, {"", "*", true},
		{"aaa", "a*a*a*a", false}, {"x.example", "*.example", true},
	} {
		if got := matchPattern(tc.s, tc.pattern); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v", tc.s, tc.pattern, got)
		}
	}
	for _, tc := range []struct {
		addr, list string
		want       int
	}{
		{"198.51.100.1", "198.51.100.0/24", 1},
		{"198.51.100.1", "!198.51.100.0/24,*", -1},
		{"198.51.100.1", "10.0.0.0/8", 0},
		{"198.51.100.1", "10.0.0.1/8", -2},
		{"198.51.100.1", "::/0", 0},
		{"", "10.0.0.0/8,host*", 0},
	} {
		if got := addrMatchList(tc.addr, tc.list); got != tc.want {
			t.Errorf("addrMatchList(%q, %q) = %d, want %d", tc.addr, tc.list, got, tc.want)
		}
	}
	for in, want := range map[string]int64{"90": 90, "1m30s": 90, "2h": 7200, "1w": 604800, "0": 0, "-5": -1, "5x": -1, "": -1, "99999999999": -1} {
		if got := convtime(in); got != want {
			t.Errorf("convtime(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestParserIncludeFanOut(t *testing.T) {
	// Every file includes all ten files of the next level: 10^16 inclusions if unbounded.
	files := map[string]string{"/etc/ssh/sshd_config": "Include /etc/ssh/l1/*.conf\n"}
	for level := 1; level <= 16; level++ {
		for i := range 10 {
			files[fmt.Sprintf("/etc/ssh/l%d/%d.conf", level, i)] = fmt.Sprintf("Include /etc/ssh/l%d/*.conf\n", level+1)
		}
	}
	if _, err := parseFiles(t, files, Version{}); !errors.Is(err, checks.ErrParse) {
		t.Errorf("err = %v, want a parse error once the line budget is spent", err)
	}
}
