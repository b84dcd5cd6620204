package nginx

import (
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

func TestAnalyzeCiphers(t *testing.T) {
	for spec, want := range map[string]struct {
		weak   []string
		nonPFS bool
	}{
		defaultCiphers: {nonPFS: true},
		"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384": {},
		"EECDH+AESGCM:EDH+AESGCM":              {},
		"HIGH:!aNULL:!MD5:!kRSA":               {},
		"HIGH":                                 {weak: []string{catANULL}, nonPFS: true},
		"ALL":                                  {weak: []string{cat3DES, catANULL}, nonPFS: true},
		"ALL:!aNULL:!3DES:!RSA":                {},
		"ECDHE-RSA-AES128-SHA:DES-CBC3-SHA":    {weak: []string{cat3DES}, nonPFS: true},
		"RC4+RSA:HIGH:!aNULL":                  {weak: []string{catRC4, catMD5}, nonPFS: true},
		"ECDHE+AESGCM:@SECLEVEL=0":             {weak: []string{catSeclevel0}},
		"AES128-GCM-SHA256":                    {nonPFS: true},
		"EXP-RC4-MD5":                          {weak: []string{catRC4, catMD5, catExport}, nonPFS: true},
		"ADH-AES256-SHA:NULL-SHA":              {weak: []string{catNULL, catANULL}, nonPFS: true},
		"MEDIUM:!aNULL":                        {weak: []string{cat3DES}, nonPFS: true},
		"ECDHE-RSA-AES256-GCM-SHA384 , kEECDH": {weak: []string{cat3DES, catANULL}},
		"TLS_AES_128_GCM_SHA256":               {},
	} {
		r := analyzeCiphers(spec)
		if !slices.Equal(r.weak, want.weak) || r.nonPFS != want.nonPFS {
			t.Errorf("%q: weak %q nonPFS %v, want %q %v", spec, r.weak, r.nonPFS, want.weak, want.nonPFS)
		}
	}
}

func TestDefaultProtocols(t *testing.T) {
	for _, tc := range []struct {
		v    Version
		want string
	}{
		{Version{1, 8, 1}, "SSLv3 TLSv1 TLSv1.1 TLSv1.2"},
		{Version{1, 9, 1}, "TLSv1 TLSv1.1 TLSv1.2"},
		{Version{1, 22, 1}, "TLSv1 TLSv1.1 TLSv1.2"},
		{Version{1, 23, 4}, "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"},
		{Version{1, 26, 3}, "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"},
		{Version{1, 27, 3}, "TLSv1.2 TLSv1.3"},
		{Version{1, 29, 0}, "TLSv1.2 TLSv1.3"},
	} {
		if got := strings.Join(defaultProtocols(Build{Known: true, Version: tc.v}), " "); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.v, got, tc.want)
		}
	}
	if got := strings.Join(defaultProtocols(Build{}), " "); got != "TLSv1 TLSv1.1 TLSv1.2" {
		t.Errorf("unknown version: %s", got)
	}
}

// configOf parses one configuration text.
func configOf(t *testing.T, text string) *Config {
	t.Helper()
	res, err := parseFiles(map[string]string{"/etc/nginx/nginx.conf": text}, "")
	if err != nil {
		t.Fatal(err)
	}
	return newConfig(res, SourceParser, "test", "/etc/nginx/nginx.conf", "/usr/share/nginx/")
}

func headerNames(hs []header) string {
	var n []string
	for _, h := range hs {
		n = append(n, h.name)
	}
	return strings.Join(n, ",")
}

func TestHeaderInheritance(t *testing.T) {
	cfg := configOf(t, `http {
  add_header A 1;
  server {
    listen 443 ssl;
    add_header B 2;
    location /inherit/ { }
    location /own/ { add_header C 3; }
    location /empty/ { add_header D ""; }
    location /merge/ { add_header_inherit merge; add_header E 5;
      location /merge/deep/ { add_header F 6; }
    }
    location /off/ { add_header_inherit off; }
    location /if/ { if ($x) { add_header G 7 always; } }
  }
}`)
	srv := cfg.Servers[0]
	got := map[string]string{}
	for _, l := range srv.leaves() {
		_, uri := locationMatch(l)
		if l.Name == "if" {
			uri = "if"
		}
		got[uri] = headerNames(headersAt(l))
	}
	want := map[string]string{"": "B", "/inherit/": "B", "/own/": "C", "/empty/": "", "/merge/": "E,B",
		"/merge/deep/": "F,E,B", "/off/": "", "/if/": "B", "if": "G"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("level %q: headers %q, want %q", k, got[k], v)
		}
	}
}

func TestParseListen(t *testing.T) {
	for arg, want := range map[string]string{
		"80": "*:80", "*:8080": "*:8080", "0.0.0.0:443": "*:443", "127.0.0.1": "127.0.0.1:80",
		"[::]:443": "[::]:443", "[::1]": "[::1]:80", "localhost:81": "localhost:81", "unix:/run/n.sock": "unix:/run/n.sock",
	} {
		l := parseListen(&Directive{Name: "listen", Args: []string{arg, "ssl"}})
		if l.Key() != want || !l.SSL {
			t.Errorf("%s: %s ssl=%v, want %s", arg, l.Key(), l.SSL, want)
		}
	}
	if !parseListen(&Directive{Args: []string{"127.0.0.2:80"}}).Local() || parseListen(&Directive{Args: []string{"80"}}).Local() {
		t.Error("Local")
	}
}

func TestTLSDetection(t *testing.T) {
	cfg := configOf(t, `http {
  server { listen 443 ssl; }
  server { listen 443; }
  server { listen 80; }
  server { listen 8443; ssl on; }
  server { listen 443 quic; }
}
stream {
  server { listen 5000 ssl; }
  server { listen 443; }
}`)
	var got []bool
	for _, s := range cfg.Servers {
		got = append(got, s.TLS)
	}
	if want := []bool{true, true, false, true, true, true, false}; !slices.Equal(got, want) {
		t.Errorf("TLS %v, want %v", got, want)
	}
	if p, _ := effectiveProtocols(cfg.Servers[4], Build{}); !slices.Equal(p, []string{"TLSv1.3"}) {
		t.Errorf("quic-only protocols %v", p)
	}
}

func TestLeavesAndActions(t *testing.T) {
	cfg := configOf(t, `http {
  server { listen 80; return 301 https://$host$request_uri; location / { } }
  server { listen 81; location / { } location = /x { return 404; } }
  server { listen 82; location /a/ { } }
  server { listen 83; location /.well-known/acme-challenge/ { } location / { rewrite ^ https://example.org$request_uri permanent; } }
}`)
	count := func(i int) int { return len(cfg.Servers[i].leaves()) }
	if count(0) != 1 || count(1) != 2 || count(2) != 2 || count(3) != 2 {
		t.Errorf("leaves %d %d %d %d", count(0), count(1), count(2), count(3))
	}
	if ok, _ := redirectsPlain(cfg.Servers[0]); !ok {
		t.Error("server-level return not seen as a redirect")
	}
	if ok, _ := redirectsPlain(cfg.Servers[3]); !ok {
		t.Error("ACME + rewrite redirect not accepted")
	}
	if ok, _ := redirectsPlain(cfg.Servers[1]); ok {
		t.Error("content server accepted")
	}
}

func TestHSTSAndHidden(t *testing.T) {
	for v, want := range map[string]int64{`max-age=31536000; includeSubDomains`: 31536000, `MAX-AGE = "600"`: 600} {
		if got, ok := hstsMaxAge(v); !ok || got != want {
			t.Errorf("%q: %d", v, got)
		}
	}
	if _, ok := hstsMaxAge("includeSubDomains"); ok {
		t.Error("no max-age parsed")
	}
	for pattern, want := range map[string]bool{
		`/\.`: true, `/\.(?!well-known)`: true, `/\.(?!well-known/).*`: true, `(^|/)\.`: true,
		`/\.ht`: false, `/\.git`: false, `\.php$`: false, `/\.(git|env|htpasswd)`: true,
	} {
		if got := matchesHidden("~", pattern); got != want {
			t.Errorf("%s: %v, want %v", pattern, got, want)
		}
	}
	if !matchesHidden("~*", `/\.(GIT|ENV|HTPASSWD)`) || matchesHidden("~", `/\.(GIT|ENV|HTPASSWD)`) {
		t.Error("case sensitivity")
	}
}

// TestChecksOnTexts runs single checks on small configurations for cases the fixtures and
// the nginx 1.22 integration scenarios cannot hold (newer directives, stream).
func TestChecksOnTexts(t *testing.T) {
	h, err := host.New(host.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	build := Build{Known: true, Version: Version{1, 29, 3}, TLSLibrary: "openssl", TLSVersion: Version{3, 0, 13}}
	for _, tc := range []struct {
		name, text string
		eval       func(*env) report.Status
		want       report.Status
	}{
		{"add_header_inherit merge keeps HSTS", `http { server { listen 443 ssl; ssl_certificate c; add_header Strict-Transport-Security "max-age=31536000";
			location / { add_header_inherit merge; add_header Cache-Control no-store; } } }`, status(hsts), pass},
		{"add_header_inherit off drops HSTS", `http { add_header_inherit off; server { listen 443 ssl; add_header Strict-Transport-Security "max-age=31536000";
			location / { } } }`, status(hsts), fail},
		{"1.27.3 default protocols", `http { server { listen 443 ssl; } }`, status(tlsProtocols), pass},
		{"stream legacy protocols", `stream { server { listen 5000 ssl; ssl_protocols TLSv1.1 TLSv1.2; } }`, status(tlsProtocols), fail},
		{"quic-only tickets", `http { server { listen 443 quic; } }`, status(sessionTickets), pass},
		{"mtls shared listener", `http { ssl_session_tickets off; server { listen 443 ssl; ssl_verify_client on; } server { listen 443 ssl; } }`, status(sessionTickets), pass},
		{"debug_connection", `events { debug_connection 192.0.2.1; } http { }`, status(debugLogging), fail},
		{"no http block", `events { }`, status(serverTokens), skip},
	} {
		cfg := configOf(t, tc.text)
		s := &state{installed: true, build: build, cfg: cfg}
		if got := tc.eval(&env{h: h, s: s, cfg: cfg}); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func status(f func(*env) checks.Result) func(*env) report.Status {
	return func(e *env) report.Status { return f(e).Status }
}
