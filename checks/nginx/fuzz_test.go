package nginx

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// fuzzSeeds are configurations for the fuzz targets' corpora.
func fuzzSeeds() []string {
	seeds := []string{
		"user www-data;\nevents {}\nhttp { include conf.d/*.conf; server { listen 443 ssl; add_header X \"a b\" always; } }\n",
		`http { map $a $b { default 0; "~^x\"y" 'q'; } server { location ~* /\.(?!well-known) { deny all; } } }`,
		"server { if ($scheme = \"http\") { return 301 https://$host$request_uri; } location /a { alias /b/; } }",
		"content_by_lua_block { local t = { '}' } -- }\n }\nx y;",
		"a ${b}{ c; }", "a \"b", "}", "{", ";", "a 'b'c;", "include;", "include a b;", "include nginx.conf;",
		"stream { server { listen 5000 ssl; ssl_protocols TLSv1; ssl_ciphers ALL:@SECLEVEL=0; } }",
		"http { add_header_inherit merge; server { listen 443 quic; location / { add_header_inherit off; } } }",
	}
	if data, err := os.ReadFile("testdata/fixtures/live-weak/root/etc/nginx/sites-enabled/shop.example"); err == nil {
		seeds = append(seeds, string(data))
	}
	return seeds
}

// runAllChecks evaluates every check on a configuration; none may panic or return an
// invalid status.
func runAllChecks(t *testing.T, res *parseResult, src Source) {
	h, err := host.New(host.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(res, src, "fuzz", "/etc/nginx/nginx.conf", "/usr/share/nginx/")
	s := &state{installed: true, build: Build{Known: true, Version: Version{1, 22, 1}}, cfg: cfg}
	for _, c := range evalFuncs() {
		r := evaluate(h, s, c.eval, time.Unix(0, 0))
		if !r.Status.Valid() {
			t.Fatalf("%s: invalid status %q", c.id, r.Status)
		}
	}
}

// FuzzParseNginxConfig feeds arbitrary nginx.conf text (and an included file) to the
// parser and the checks: a configuration is either parsed or refused with a parse error (or
// a missing-file error for includes), never a panic.
func FuzzParseNginxConfig(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, "server_tokens off;\nlocation / { }\n")
	}
	f.Fuzz(func(t *testing.T, config, included string) {
		res, err := parseFiles(map[string]string{
			"/etc/nginx/nginx.conf":      config,
			"/etc/nginx/conf.d/a.conf":   included,
			"/etc/nginx/mime.types":      "types { text/html html; }",
			"/etc/nginx/sites-enabled/x": "server { listen 80; }",
		}, "daemon off;")
		if err != nil {
			if !errors.Is(err, checks.ErrParse) && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, host.ErrTooLarge) {
				t.Fatalf("error that is neither a parse error nor a missing file: %v", err)
			}
			return
		}
		if len(res.files) == 0 || res.files[0] != "/etc/nginx/nginx.conf" {
			t.Fatalf("files %q", res.files)
		}
		runAllChecks(t, res, SourceParser)
	})
}

// FuzzNginxDump feeds arbitrary text to the `nginx -T` output splitter and parser, then to
// every check.
func FuzzNginxDump(f *testing.F) {
	for _, name := range []string{"live-hardened", "live-weak", "header-inheritance-trap"} {
		if data, err := os.ReadFile("testdata/fixtures/" + name + "/commands/nginx-T.txt"); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("# configuration file /a:\nhttp { include /b; }\n\n# configuration file /b:\nserver { listen 443 ssl; }\n"))
	f.Add([]byte("# configuration file /a:\n# configuration file /b:\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, out []byte) {
		res, err := parseDump(out, "")
		if err != nil {
			if !errors.Is(err, checks.ErrParse) && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, host.ErrTooLarge) {
				t.Fatalf("error that is neither a parse error nor a missing file: %v", err)
			}
			return
		}
		runAllChecks(t, res, SourceNginxT)
	})
}
