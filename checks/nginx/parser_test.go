package nginx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// lexAll returns every statement of text as "kind:arg|arg@line".
func lexAll(text string) ([]string, error) {
	lx := newLexer("t.conf", []byte(text))
	var out []string
	for {
		st, err := lx.next()
		if err != nil {
			return out, err
		}
		kind := map[stmtKind]string{stmtDirective: "d", stmtBlock: "b", stmtEnd: "e", stmtEOF: "eof"}[st.kind]
		if st.kind == stmtEOF {
			return out, nil
		}
		out = append(out, kind+":"+strings.Join(st.args, "|")+"@"+strconv.Itoa(st.line))
	}
}

func TestLexer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "a b;", want: []string{"d:a|b@1"}},
		{in: "a \"b c\" 'd e';", want: []string{"d:a|b c|d e@1"}},
		{in: `a "x\"y" 'it\'s' "t\tn\\";`, want: []string{"d:a|x\"y|it's|t\tn\\@1"}},
		{in: `a b\ c \.d;`, want: []string{`d:a|b\ c|\.d@1`}},
		{in: "a ${b}c {\n}", want: []string{"b:a|${b}c@1", "e:@2"}},
		{in: "a#b c;", want: []string{"d:a#b|c@1"}},
		{in: "a # comment ; x\n  c;", want: []string{"d:a|c@1"}},
		{in: "# only a comment {\n", want: nil},
		{in: `if ($a = "b") { return 403; }`, want: []string{"b:if|($a|=|b|)@1", "d:return|403@1", "e:@1"}},
		{in: "\n\nlisten\n  80\n  ssl;", want: []string{"d:listen|80|ssl@3"}},
		{in: "server{listen 80;}", want: []string{"b:server@1", "d:listen|80@1", "e:@1"}},
		{in: "a b}c;", want: []string{"d:a|b}c@1"}},
		{in: "a '' \"\";", want: []string{"d:a||@1"}},
		{in: `a "b"c;`, err: `unexpected 'c'`},
		{in: ";", err: `unexpected ';'`},
		{in: "{", err: `unexpected '{'`},
		{in: "a b", err: "unexpected end of file"},
		{in: "a \"b;\n", err: "unexpected end of file"},
		{in: "a b }", err: `unexpected "}"`},
	} {
		got, err := lexAll(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, checks.ErrParse) {
				t.Errorf("%q: error %v, want %q (a parse error)", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// parseFiles parses /etc/nginx/nginx.conf from an in-memory file set.
func parseFiles(files map[string]string, globals string) (*parseResult, error) {
	var df []dumpFile
	for name, content := range files {
		df = append(df, dumpFile{name: name, data: []byte(content)})
	}
	slices.SortFunc(df, func(a, b dumpFile) int { return strings.Compare(a.name, b.name) })
	return parseConfig(newDumpSource(df), "/etc/nginx/nginx.conf", globals)
}

func TestParserIncludes(t *testing.T) {
	res, err := parseFiles(map[string]string{
		"/etc/nginx/nginx.conf":          "user www-data;\nhttp {\n  include mime.types;\n  include /etc/nginx/conf.d/*.conf;\n  include sites-enabled/*;\n}\n",
		"/etc/nginx/mime.types":          "types { text/html html; }\n",
		"/etc/nginx/conf.d/b.conf":       "gzip on;\n",
		"/etc/nginx/conf.d/a.conf":       "server_tokens off;\n",
		"/etc/nginx/conf.d/.hidden.conf": "not included {",
		"/etc/nginx/conf.d/c.conf.bak":   "not included {",
		"/etc/nginx/sites-enabled/site":  "server {\n  listen 80;\n  include snippets/x.conf;\n}\n",
		"/etc/nginx/snippets/x.conf":     "root /srv;\n",
	}, "daemon off;")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"/etc/nginx/nginx.conf", "/etc/nginx/mime.types", "/etc/nginx/conf.d/a.conf",
		"/etc/nginx/conf.d/b.conf", "/etc/nginx/sites-enabled/site", "/etc/nginx/snippets/x.conf"}
	if !slices.Equal(res.files, wantFiles) {
		t.Errorf("files %q, want %q", res.files, wantFiles)
	}
	want := `"daemon" ["off"] @(command line -g):1
"user" ["www-data"] @/etc/nginx/nginx.conf:1
"http" [] @/etc/nginx/nginx.conf:2 {
  "types" [] @/etc/nginx/mime.types:1 {
    "text/html" ["html"] @/etc/nginx/mime.types:1
  }
  "server_tokens" ["off"] @/etc/nginx/conf.d/a.conf:1
  "gzip" ["on"] @/etc/nginx/conf.d/b.conf:1
  "server" [] @/etc/nginx/sites-enabled/site:1 {
    "listen" ["80"] @/etc/nginx/sites-enabled/site:2
    "root" ["/srv"] @/etc/nginx/snippets/x.conf:1
  }
}
`
	if got := treeString(res.main); got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
	srv := res.main.First("http").First("server")
	if lookupValue(srv.First("root"), "server_tokens", "on") != "off" {
		t.Error("server_tokens set in an included file at http level is not inherited")
	}
}

func TestParserErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		files    map[string]string
		notExist bool
	}{
		"missing include": {files: map[string]string{"/etc/nginx/nginx.conf": "include /etc/nginx/none.conf;"}, notExist: true},
		"missing main":    {files: map[string]string{}, notExist: true},
		"loop": {files: map[string]string{"/etc/nginx/nginx.conf": "include a.conf;",
			"/etc/nginx/a.conf": "include b.conf;", "/etc/nginx/b.conf": "include a.conf;"}},
		"block closed in another file": {files: map[string]string{"/etc/nginx/nginx.conf": "http {\ninclude a.conf;",
			"/etc/nginx/a.conf": "}\n"}},
		"block left open in include": {files: map[string]string{"/etc/nginx/nginx.conf": "include a.conf;\n}",
			"/etc/nginx/a.conf": "http {\n"}},
		"include with block":   {files: map[string]string{"/etc/nginx/nginx.conf": "include a.conf { }"}},
		"include two args":     {files: map[string]string{"/etc/nginx/nginx.conf": "include a b;"}},
		"unterminated lua":     {files: map[string]string{"/etc/nginx/nginx.conf": "content_by_lua_block { local s = '}' "}},
		"too deep":             {files: map[string]string{"/etc/nginx/nginx.conf": strings.Repeat("a {", 70) + strings.Repeat("}", 70)}},
		"top-level close":      {files: map[string]string{"/etc/nginx/nginx.conf": "}"}},
		"unexpected eof block": {files: map[string]string{"/etc/nginx/nginx.conf": "http {"}},
	} {
		_, err := parseFiles(tc.files, "")
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if tc.notExist != errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: error %v (not-exist %v, want %v)", name, err, errors.Is(err, fs.ErrNotExist), tc.notExist)
		}
		if !tc.notExist && !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: %v is not a parse error", name, err)
		}
	}
}

func TestParserLuaBlock(t *testing.T) {
	res, err := parseFiles(map[string]string{"/etc/nginx/nginx.conf": `http {
  server {
    content_by_lua_block {
      local t = { a = "}", b = '{' } -- a } in a comment
      --[[ long } comment ]]
      ngx.say([==[ } ]==])
    }
    add_header X-After-Lua yes;
  }
}
`}, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := res.main.First("http").First("server")
	lua := srv.First("content_by_lua_block")
	if lua == nil || !strings.Contains(lua.Arg(0), "ngx.say") {
		t.Fatalf("lua block not kept: %+v", lua)
	}
	if h := srv.First("add_header"); h == nil || h.Line != 8 {
		t.Fatalf("directive after the Lua block misplaced: %+v", h)
	}
}

func TestGlobFS(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"etc/nginx/sites/a/x.conf", "etc/nginx/sites/b/y.conf", "etc/nginx/sites/b/.z.conf",
		"etc/nginx/sites/.c/w.conf", "etc/nginx/sites-x/q.conf", "etc/nginx/conf.d/10-a.conf", "etc/nginx/conf.d/9-b.conf"} {
		full := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x;"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := host.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	for pattern, want := range map[string][]string{
		"/etc/nginx/sites/*/*.conf":    {"/etc/nginx/sites/a/x.conf", "/etc/nginx/sites/b/y.conf"},
		"/etc/nginx/sites/.*/*.conf":   {"/etc/nginx/sites/.c/w.conf"},
		"/etc/nginx/conf.d/*.conf":     {"/etc/nginx/conf.d/10-a.conf", "/etc/nginx/conf.d/9-b.conf"},
		"/etc/nginx/conf.d/[!1]*.conf": {"/etc/nginx/conf.d/9-b.conf"},
		"/etc/nginx/none/*":            nil,
		"/etc/nginx/sites*/*/x.conf":   {"/etc/nginx/sites/a/x.conf"},
		"/etc/nginx//conf.d/1?-a.conf": {"/etc/nginx//conf.d/10-a.conf"},
	} {
		got, err := globFS(fsys, pattern)
		if err != nil {
			t.Errorf("%s: %v", pattern, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", pattern, got, want)
		}
		// The dump source must agree on the same names.
		var df []dumpFile
		for _, f := range []string{"/etc/nginx/sites/a/x.conf", "/etc/nginx/sites/b/y.conf", "/etc/nginx/sites/b/.z.conf",
			"/etc/nginx/sites/.c/w.conf", "/etc/nginx/sites-x/q.conf", "/etc/nginx/conf.d/10-a.conf", "/etc/nginx/conf.d/9-b.conf",
			"/etc/nginx//conf.d/10-a.conf"} {
			df = append(df, dumpFile{name: f})
		}
		dgot, _ := newDumpSource(df).glob(pattern)
		if !slices.Equal(dgot, want) {
			t.Errorf("dump glob %s: %q, want %q", pattern, dgot, want)
		}
	}
}

func TestSplitDump(t *testing.T) {
	out := "# configuration file /etc/nginx/nginx.conf:\nhttp {\n  include a.conf;\n}\n\n" +
		"# configuration file /etc/nginx/a.conf:\n# configuration file is a comment\nserver_tokens off;\n"
	files, err := splitDump([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].name != "/etc/nginx/nginx.conf" || string(files[0].data) != "http {\n  include a.conf;\n}\n" ||
		files[1].name != "/etc/nginx/a.conf" || string(files[1].data) != "# configuration file is a comment\nserver_tokens off;" {
		t.Fatalf("split %q", files)
	}
	res, err := parseDump([]byte(out), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.files, []string{"/etc/nginx/nginx.conf", "/etc/nginx/a.conf"}) {
		t.Errorf("files %q", res.files)
	}
	for name, bad := range map[string]string{
		"no marker":          "http {}\n",
		"empty":              "",
		"relative marker":    "# configuration file nginx.conf:\n",
		"unterminated":       "# configuration file /a",
		"duplicate":          "# configuration file /a:\nx;\n\n# configuration file /a:\ny;\n",
		"unused file":        "# configuration file /a:\nx;\n\n# configuration file /b:\ny;\n",
		"marker-like inside": "# configuration file /a:\nx;\n# configuration file /b:\ny;\n",
	} {
		if _, err := parseDump([]byte(bad), ""); err == nil || !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: error %v, want a parse error", name, err)
		}
	}
}

func TestParseBuild(t *testing.T) {
	debian := "nginx version: nginx/1.22.1\nbuilt with OpenSSL 3.0.11 19 Sep 2023 (running with OpenSSL 3.0.13 30 Jan 2024)\n" +
		"TLS SNI support enabled\nconfigure arguments: --with-cc-opt='-g -O2 -fstack-protector-strong' --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf --with-debug --with-http_ssl_module\n"
	b, ok := parseBuild([]byte(debian))
	if !ok || b.Version != (Version{1, 22, 1}) || b.TLSLibrary != "openssl" || b.TLSVersion != (Version{3, 0, 13}) || !b.OpenSSL3() {
		t.Fatalf("debian: %+v", b)
	}
	if v, _ := b.ConfigureValue("--conf-path"); v != "/etc/nginx/nginx.conf" {
		t.Errorf("conf path %q", v)
	}
	if v, _ := b.ConfigureValue("--with-cc-opt"); v != "-g -O2 -fstack-protector-strong" {
		t.Errorf("quoted option %q", v)
	}
	if !b.HasModule("--with-debug") || b.HasModule("--with-http_dav_module") {
		t.Error("HasModule")
	}
	b, ok = parseBuild([]byte("nginx version: openresty/1.21.4.3\nbuilt with LibreSSL 3.8.2\n"))
	if !ok || b.Version != (Version{1, 21, 4}) || b.TLSLibrary != "libressl" || b.OpenSSL3() {
		t.Errorf("openresty: %+v", b)
	}
	if _, ok := parseBuild([]byte("bash: nginx: command not found")); ok {
		t.Error("garbage parsed")
	}
}

func TestScanBinary(t *testing.T) {
	dir := t.TempDir()
	bin := "\x7fELF\x00junk\x00nginx version: nginx/1.18.0\n\x00built with OpenSSL 1.1.1n  15 Mar 2022\n\x00" +
		"configure arguments: --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf\n\x00more"
	if err := os.MkdirAll(filepath.Join(dir, "usr/sbin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/sbin/nginx"), []byte(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	fsys, _ := host.NewFS(dir)
	b, err := scanBinary(fsys, "/usr/sbin/nginx")
	if err != nil || b.Version != (Version{1, 18, 0}) || b.TLSVersion != (Version{1, 1, 1}) || b.Source != "binary" {
		t.Fatalf("%+v %v", b, err)
	}
	if _, err := scanBinary(fsys, "/usr/sbin/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing binary: %v", err)
	}
}

func TestParseMasterTitle(t *testing.T) {
	for title, want := range map[string]cmdOptions{
		"nginx: master process /usr/sbin/nginx -g daemon on; master_process on;":       {globals: "daemon on; master_process on;"},
		"nginx: master process /usr/local/nginx/sbin/nginx -c /opt/n.conf -p /opt/":    {conf: "/opt/n.conf", prefix: "/opt/"},
		"nginx: master process nginx -c/etc/x.conf -g daemon off; user root; -p /srv/": {conf: "/etc/x.conf", prefix: "/srv/", globals: "daemon off; user root;"},
		"nginx: master process /usr/sbin/nginx":                                        {},
		"nginx: worker process":                                                        {},
	} {
		if got := parseMasterTitle(title); got != want {
			t.Errorf("%q: %+v, want %+v", title, got, want)
		}
	}
	if got := cmdlineTitle([]byte("nginx: master process /usr/sbin/nginx\x00\x00\x00")); got != "nginx: master process /usr/sbin/nginx" {
		t.Errorf("title %q", got)
	}
	if got := cmdlineTitle([]byte("nginx\x00-g\x00daemon off;\x00")); got != "nginx -g daemon off;" {
		t.Errorf("argv %q", got)
	}
}
