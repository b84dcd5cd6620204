package nginx

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/report"
)

// certFile is a certificate and key a scenario needs: NAME.crt and NAME.key in the prefix.
type certFile struct {
	name string
	// days the certificate stays valid (negative: expired that long ago).
	days int
	// chainDays, when set, appends a second certificate (a chain) valid that long.
	chainDays int
	// keyMode defaults to 0600; keyUID/keyGID to root.
	keyMode        os.FileMode
	keyUID, keyGID int
}

// scenario is one configuration written to its own prefix and checked with `nginx -T`.
type scenario struct {
	name string
	// main and http are directives added to the main context and the http block of the
	// generated nginx.conf, which keeps pid, logs, lock and temporary files in the prefix.
	main, http string
	// noAccessLog leaves the prefix access_log out of the http block (the scenario sets its
	// own, or "off"; nginx would otherwise open its compiled-in default).
	noAccessLog bool
	// files are further files, relative to the prefix.
	files map[string]string
	certs []certFile
	// setup adjusts modes and owners after writing.
	setup func(t *testing.T, dir string)
	// reject: nginx must refuse the configuration, and the parser must too.
	reject bool
	want   map[string]report.Status
}

const (
	pass = report.StatusPass
	fail = report.StatusFail
	skip = report.StatusSkip
)

// tlsSite is a TLS server block using certificate NAME.
func tlsSite(server, cert, body string) string {
	return `
    server {
        listen 443 ssl;
        server_name ` + server + `;
        ssl_certificate {P}/` + cert + `.crt;
        ssl_certificate_key {P}/` + cert + `.key;
` + body + `
    }
`
}

// hardenedHTTP passes every check.
const hardenedHTTP = `
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384;
    ssl_session_tickets off;
    add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
    add_header X-Content-Type-Options nosniff always;
    add_header X-Frame-Options SAMEORIGIN always;
    add_header Content-Security-Policy "default-src 'self'" always;
    add_header Referrer-Policy strict-origin-when-cross-origin always;
    server {
        listen 80 default_server;
        server_name _;
        location /.well-known/acme-challenge/ { root {P}/acme; }
        location / { return 301 https://$host$request_uri; }
    }
    server {
        listen 443 ssl default_server;
        server_name site.example;
        ssl_certificate {P}/site.crt;
        ssl_certificate_key {P}/site.key;
        root {P}/www;
        location ~ /\.(?!well-known) { deny all; }
        location / { try_files $uri $uri/ =404; }
    }
`

// goodTLS is hardenedHTTP's http-level settings without servers.
const goodTLS = `
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384;
    ssl_session_tickets off;
`

// allHeaders are the HSTS and security headers.
const allHeaders = `
        add_header Strict-Transport-Security "max-age=31536000" always;
        add_header X-Content-Type-Options nosniff always;
        add_header X-Frame-Options DENY always;
        add_header Content-Security-Policy "default-src 'self'" always;
        add_header Referrer-Policy no-referrer always;
`

func site() []certFile { return []certFile{{name: "site", days: 365}} }

// scenarios are the configurations of TestNginxScenarios.
func scenarios() []scenario {
	every := func(st report.Status) map[string]report.Status {
		m := map[string]report.Status{}
		for _, c := range evalFuncs() {
			m[c.id] = st
		}
		return m
	}
	with := func(m map[string]report.Status, kv ...any) map[string]report.Status {
		out := map[string]report.Status{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1].(report.Status)
		}
		return out
	}
	want := func(kv ...any) map[string]report.Status { return with(nil, kv...) }
	// Group ssl-cert may read keys (Debian); without such a group the key is simply group-readable.
	sslCert, sslCertWant := 4, fail
	if fsys, err := host.NewFS("/"); err == nil {
		if gid := groupGID(fsys, "ssl-cert"); gid >= 0 {
			sslCert, sslCertWant = int(gid), pass
		}
	}
	return []scenario{
		{name: "hardened", main: "user www-data;", http: hardenedHTTP, certs: site(),
			files: map[string]string{"www/index.html": "hello\n"}, want: every(pass)},
		{name: "weak-everything", main: "user root;", http: `
    error_log {P}/debug.log debug;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    ssl_ciphers "ALL:@SECLEVEL=0";
    autoindex on;
    server {
        listen 80;
        server_name plain.example;
        root {P}/www;
        access_log off;
        location /files { alias {P}/files/; }
    }
` + tlsSite("weak.example", "old", `        root {P}/www;
        add_header X-XSS-Protection "1; mode=block";`) + `
    include {P}/sites-enabled/default;
`, certs: []certFile{{name: "old", days: -3, keyMode: 0o644}},
			files: map[string]string{"sites-enabled/default": "server { listen 8080; root {P}/html; }\n",
				"html/index.html": "<h1>Welcome to nginx!</h1>\n"},
			setup: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "sites-enabled/default"), 0o666) },
			want:  every(fail)},
		{name: "protocols-default-1.22", http: `
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
` + tlsSite("a.example", "site", allHeaders), certs: site(),
			want: want("nginx.tls-protocols", fail, "nginx.tls-ciphers", pass, "nginx.session-tickets", fail, "nginx.server-tokens", fail)},
		{name: "protocols-tls13-only", http: `
    ssl_protocols TLSv1.3;
    ssl_ciphers ALL;
` + tlsSite("a.example", "site", allHeaders), certs: site(),
			want: want("nginx.tls-protocols", pass, "nginx.tls-ciphers", pass, "nginx.session-tickets", pass)},
		{name: "protocols-one-server-legacy", http: goodTLS + tlsSite("a.example", "site", allHeaders) +
			tlsSite("b.example", "site", allHeaders+"        ssl_protocols TLSv1.1 TLSv1.2;"), certs: site(),
			want: want("nginx.tls-protocols", fail, "nginx.hsts", pass)},
		{name: "ciphers-default-non-pfs", http: `
    ssl_protocols TLSv1.2 TLSv1.3;
` + tlsSite("a.example", "site", allHeaders), certs: site(),
			want: want("nginx.tls-ciphers", fail, "nginx.tls-protocols", pass)},
		{name: "ciphers-3des", http: goodTLS + tlsSite("a.example", "site", allHeaders+
			"        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA;"), certs: site(),
			want: want("nginx.tls-ciphers", fail)},
		{name: "ciphers-high-anull", http: goodTLS + tlsSite("a.example", "site", allHeaders+
			"        ssl_ciphers HIGH:!kRSA;"), certs: site(),
			want: want("nginx.tls-ciphers", fail)},
		{name: "ciphers-mozilla-groups", http: goodTLS + tlsSite("a.example", "site", allHeaders+
			"        ssl_ciphers 'EECDH+AESGCM:EDH+AESGCM';"), certs: site(),
			want: want("nginx.tls-ciphers", pass)},
		{name: "hsts-add-header-trap", http: goodTLS + tlsSite("a.example", "site", allHeaders+`
        location /static/ { add_header Cache-Control "public"; }
        location / { }`), certs: site(),
			want: want("nginx.hsts", fail, "nginx.security-headers", fail)},
		{name: "hsts-http-level-inherited", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        location / { root {P}/www; }
        location /api/ { proxy_pass http://127.0.0.1:9000; }`), certs: site(),
			want: want("nginx.hsts", pass, "nginx.security-headers", pass)},
		{name: "hsts-short-max-age", http: goodTLS + tlsSite("a.example", "site",
			`        add_header Strict-Transport-Security "max-age=86400";`), certs: site(),
			want: want("nginx.hsts", fail)},
		{name: "hsts-nested-location-and-if", http: goodTLS + tlsSite("a.example", "site", allHeaders+`
        location /a/ {
            location /a/b/ { add_header X-Debug 1; }
        }
        location /c/ {
            if ($arg_x) { add_header X-Arg 1; }
        }`), certs: site(),
			want: want("nginx.hsts", fail)},
		{name: "tls-shared-listener", http: goodTLS + allHeaders + `
    server {
        listen 443 ssl default_server;
        server_name a.example;
        ssl_certificate {P}/site.crt;
        ssl_certificate_key {P}/site.key;
    }
    server {
        listen 443;
        server_name b.example;
        ssl_certificate {P}/site.crt;
        ssl_certificate_key {P}/site.key;
        ssl_protocols TLSv1 TLSv1.2;
    }
`, certs: site(), want: want("nginx.tls-protocols", fail, "nginx.https-redirect", pass)},
		{name: "legacy-ssl-on", http: allHeaders + `
    server_tokens off;
    server {
        listen 8443;
        ssl on;
        server_name a.example;
        ssl_certificate {P}/site.crt;
        ssl_certificate_key {P}/site.key;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
        ssl_session_tickets off;
    }
`, certs: site(), want: want("nginx.tls-protocols", pass, "nginx.session-tickets", pass, "nginx.hsts", pass, "nginx.https-redirect", pass)},
		{name: "redirect-plain-serves-content", http: goodTLS + allHeaders + `
    server { listen 80; server_name a.example; root {P}/www; }
` + tlsSite("a.example", "site", ""), certs: site(),
			want: want("nginx.https-redirect", fail)},
		{name: "redirect-mixed-scheme-if", http: goodTLS + allHeaders + `
    server {
        listen 80;
        listen 443 ssl;
        server_name a.example;
        ssl_certificate {P}/site.crt;
        ssl_certificate_key {P}/site.key;
        if ($scheme = "http") { return 301 https://$host$request_uri; }
        root {P}/www;
        location ~ /\. { return 404; }
    }
`, certs: site(), want: want("nginx.https-redirect", pass, "nginx.hidden-files", pass)},
		{name: "redirect-mixed-without-redirect", http: goodTLS + allHeaders + `
    server {
        listen 80;
        listen 443 ssl;
        server_name a.example;
        ssl_certificate {P}/site.crt;
        ssl_certificate_key {P}/site.key;
        root {P}/www;
    }
`, certs: site(), want: want("nginx.https-redirect", fail, "nginx.hidden-files", fail)},
		{name: "redirect-server-level-return", http: goodTLS + allHeaders + `
    server { listen 80; server_name _; return 301 https://$host$request_uri; }
    server { listen 8081; server_name drop.example; return 444; }
` + tlsSite("a.example", "site", ""), certs: site(),
			want: want("nginx.https-redirect", pass)},
		{name: "redirect-to-scheme-is-not-https", http: goodTLS + allHeaders + `
    server { listen 80; server_name _; location / { return 301 $scheme://www.example$request_uri; } }
` + tlsSite("a.example", "site", ""), certs: site(),
			want: want("nginx.https-redirect", fail)},
		{name: "redirect-loopback-only-plain", http: goodTLS + allHeaders + `
    server { listen 127.0.0.1:8080; server_name status; location / { return 200 "ok"; } }
    server { listen 80; rewrite ^ https://$host$request_uri? permanent; }
` + tlsSite("a.example", "site", ""), certs: site(),
			want: want("nginx.https-redirect", pass)},
		{name: "plain-only-no-tls", http: `
    server_tokens off;
    server { listen 80; server_name a.example; root {P}/www; location ~ /\.(git|env|htpasswd) { deny all; } }
`, want: want("nginx.https-redirect", skip, "nginx.tls-protocols", skip, "nginx.hsts", skip, "nginx.certificate-expiry", skip,
			"nginx.hidden-files", pass, "nginx.server-tokens", pass, "nginx.security-headers", fail)},
		{name: "key-group-readable", http: goodTLS + tlsSite("a.example", "k", allHeaders),
			certs: []certFile{{name: "k", days: 365, keyMode: 0o640, keyGID: 4}},
			want:  want("nginx.tls-key-permissions", fail)},
		{name: "key-not-root-owned", http: goodTLS + tlsSite("a.example", "k", allHeaders),
			certs: []certFile{{name: "k", days: 365, keyUID: 65534}},
			want:  want("nginx.tls-key-permissions", fail)},
		{name: "key-ssl-cert-group", http: goodTLS + tlsSite("a.example", "k", allHeaders),
			certs: []certFile{{name: "k", days: 365, keyMode: 0o640, keyGID: sslCert}},
			want:  want("nginx.tls-key-permissions", sslCertWant)},
		{name: "cert-expires-in-10-days", http: goodTLS + tlsSite("a.example", "c", allHeaders),
			certs: []certFile{{name: "c", days: 10}}, want: want("nginx.certificate-expiry", fail)},
		{name: "cert-expires-in-20-days", http: goodTLS + tlsSite("a.example", "c", allHeaders),
			certs: []certFile{{name: "c", days: 20}}, want: want("nginx.certificate-expiry", fail)},
		{name: "cert-chain-expiring", http: goodTLS + tlsSite("a.example", "c", allHeaders),
			certs: []certFile{{name: "c", days: 300, chainDays: 5}}, want: want("nginx.certificate-expiry", fail)},
		{name: "cert-two-servers-fine", http: goodTLS + tlsSite("a.example", "c", allHeaders) + tlsSite("b.example", "d", allHeaders),
			certs: []certFile{{name: "c", days: 90}, {name: "d", days: 400}}, want: want("nginx.certificate-expiry", pass)},
		{name: "autoindex-one-location", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        root {P}/www;
        location /pub/ { autoindex on; }`), certs: site(),
			want: want("nginx.autoindex", fail, "nginx.hidden-files", fail)},
		{name: "autoindex-off-override", http: goodTLS + allHeaders + "    autoindex on;\n" + tlsSite("a.example", "site", `
        autoindex off;
        root {P}/www;`), certs: site(),
			want: want("nginx.autoindex", pass)},
		{name: "hidden-files-ht-only", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        root {P}/www;
        location ~ /\.ht { deny all; }`), certs: site(),
			want: want("nginx.hidden-files", fail)},
		{name: "hidden-files-case-insensitive", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        root {P}/www;
        location ~* "/\.(git|env|htpasswd)" { return 404; }`), certs: site(),
			want: want("nginx.hidden-files", pass)},
		{name: "proxy-only-no-root", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        location / { proxy_pass http://127.0.0.1:9000; }`), certs: site(),
			want: want("nginx.hidden-files", skip, "nginx.default-site", pass)},
		{name: "alias-traversal", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        location /img { alias {P}/img/; }
        location /ok/ { alias {P}/ok/; }
        location ~ ^/re/(.*)$ { alias {P}/re/$1; }`), certs: site(),
			want: want("nginx.alias-traversal", fail)},
		{name: "alias-safe", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        location /img/ { alias {P}/img/; }
        location = /logo.png { alias {P}/img/logo.png; }
        location /data { alias {P}/data; }`), certs: site(),
			want: want("nginx.alias-traversal", pass)},
		{name: "debug-in-server", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        error_log {P}/site-error.log debug;`), certs: site(),
			want: want("nginx.debug-logging", fail)},
		{name: "access-log-off-http-overridden", noAccessLog: true, http: goodTLS + allHeaders + `
    access_log off;
` + tlsSite("a.example", "site", `        access_log {P}/site.log;`), certs: site(),
			want: want("nginx.access-log", pass)},
		{name: "access-log-off-inherited", noAccessLog: true, http: goodTLS + allHeaders + `
    access_log off;
` + tlsSite("a.example", "site", `        location /health { access_log off; }`), certs: site(),
			want: want("nginx.access-log", fail)},
		{name: "session-ticket-key", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        ssl_session_tickets on;
        ssl_session_ticket_key {P}/ticket.key;`), certs: site(),
			files: map[string]string{"ticket.key": strings.Repeat("k", 80)},
			want:  want("nginx.session-tickets", fail)},
		{name: "config-permissions-writable-include", http: goodTLS + allHeaders + "    include conf.d/*.conf;\n", certs: site(),
			files: map[string]string{"conf.d/site.conf": tlsSite("a.example", "site", "")},
			setup: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "conf.d"), 0o777) },
			want:  want("nginx.config-permissions", fail)},
		{name: "config-permissions-foreign-owner", http: goodTLS + allHeaders + "    include conf.d/*.conf;\n", certs: site(),
			files: map[string]string{"conf.d/site.conf": tlsSite("a.example", "site", "")},
			setup: func(t *testing.T, dir string) { chown(t, filepath.Join(dir, "conf.d/site.conf"), 1000, 1000) },
			want:  want("nginx.config-permissions", fail)},
		{name: "auth-file-readable", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        location /admin/ { auth_basic "admin"; auth_basic_user_file htpasswd; }`), certs: site(),
			files: map[string]string{"htpasswd": "admin:$apr1$x$y\n"},
			want:  want("nginx.config-permissions", fail)},
		{name: "auth-file-private", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        location /admin/ { auth_basic "admin"; auth_basic_user_file {P}/htpasswd; }`), certs: site(),
			files: map[string]string{"htpasswd": "admin:$apr1$x$y\n"},
			setup: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "htpasswd"), 0o640) },
			want:  want("nginx.config-permissions", pass)},
		{name: "default-site-included", http: goodTLS + allHeaders + "    include sites-enabled/*;\n", certs: site(),
			files: map[string]string{"sites-enabled/default": tlsSite("a.example", "site", "")},
			want:  want("nginx.default-site", fail)},
		{name: "default-page-in-root", http: goodTLS + allHeaders + tlsSite("a.example", "site", "        root {P}/www;"), certs: site(),
			files: map[string]string{"www/index.html": "<title>Welcome to nginx!</title>\n"},
			want:  want("nginx.default-site", fail)},
		{name: "server-tokens-location-on", http: goodTLS + allHeaders + tlsSite("a.example", "site", `
        location /x/ { server_tokens on; }`), certs: site(),
			want: want("nginx.server-tokens", fail)},
		{name: "server-tokens-build", http: allHeaders + `
    server_tokens build;
` + tlsSite("a.example", "site", ""), certs: site(), want: want("nginx.server-tokens", fail)},
		{name: "worker-user-nobody-default", http: goodTLS + allHeaders + tlsSite("a.example", "site", ""), certs: site(),
			want: want("nginx.worker-user", pass)},
		{name: "security-headers-csp-frame-ancestors", http: goodTLS + tlsSite("a.example", "site", `
        add_header Strict-Transport-Security "max-age=63072000" always;
        add_header X-Content-Type-Options "nosniff";
        add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'";
        add_header Referrer-Policy same-origin;`), certs: site(),
			want: want("nginx.security-headers", pass, "nginx.hsts", pass)},
		{name: "syntax-variety", main: "worker_processes 2;\nenv 'TZ=UTC';", http: goodTLS + allHeaders + `
    include mime.conf;
    map $http_upgrade $conn { default upgrade; '' close; "~^x\"y" 'q'; }
    include {P}/sites/*/*.conf;
    include  "conf.d/[a-b]*.conf" ;
`, certs: site(), files: map[string]string{
			"mime.conf":            "types {\n    text/html  html htm;\n    # comment { not a block\n    application/json json;\n}\n",
			"sites/a/one.conf":     tlsSite("one.example", "site", "        set $v \"a b\\\"c\";\n        location /${v}x { return 200 'it\\'s'; }\n        if ($request_uri ~* \"^/(a|b)\") { return 403; }"),
			"sites/b/two.conf":     "# a file without a trailing newline\nserver { listen 8082; server_name two.example; location / { return 404; } }",
			"sites/b/.hidden.conf": "this is not nginx syntax {",
			"conf.d/a1.conf":       "log_format main '$remote_addr \"$request\"';\n",
			"conf.d/b1.conf":       "server_names_hash_bucket_size 64;   # trailing comment\n",
			"conf.d/c1.conf":       "this is not included either {",
		}, want: want("nginx.tls-protocols", pass, "nginx.https-redirect", pass)},
		{name: "reject-unbalanced", http: "    server { listen 80;\n", reject: true},
		{name: "reject-unterminated-quote", http: "    server_name \"abc;\n", reject: true},
		{name: "reject-missing-include", http: "    include {P}/missing.conf;\n", reject: true},
		{name: "reject-extra-brace", http: "    }\n", reject: true},
		{name: "reject-quote-needs-space", http: "    server { listen 80; server_name \"a\"b; }\n", reject: true},
	}
}

func chmod(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, name string, uid, gid int) {
	t.Helper()
	if err := os.Chown(name, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// writeScenario writes a scenario under dir and returns the main file.
func writeScenario(t *testing.T, dir string, sc scenario) string {
	t.Helper()
	expand := func(s string) string { return strings.ReplaceAll(s, "{P}", dir) }
	accessLog := "    access_log {P}/access.log;\n"
	if sc.noAccessLog {
		accessLog = ""
	}
	conf := sc.main + `
pid {P}/nginx.pid;
error_log {P}/error.log;
lock_file {P}/nginx.lock;
events { worker_connections 64; }
http {
    client_body_temp_path {P}/tmp/body;
    proxy_temp_path {P}/tmp/proxy;
    fastcgi_temp_path {P}/tmp/fastcgi;
    uwsgi_temp_path {P}/tmp/uwsgi;
    scgi_temp_path {P}/tmp/scgi;
` + accessLog + sc.http + `
}
`
	write := func(name, content string, mode os.FileMode) {
		full := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(expand(content)), mode); err != nil {
			t.Fatal(err)
		}
		chmod(t, full, mode) // the umask must not decide
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("nginx.conf", conf, 0o644)
	for name, content := range sc.files {
		write(name, content, 0o644)
	}
	for _, c := range sc.certs {
		cert, key := certPEM(t, c.name+".example", c.days)
		if c.chainDays != 0 {
			chain, _ := certPEM(t, c.name+"-ca.example", c.chainDays)
			cert = append(cert, chain...)
		}
		mode := c.keyMode
		if mode == 0 {
			mode = 0o600
		}
		write(c.name+".crt", string(cert), 0o644)
		write(c.name+".key", string(key), mode)
		chown(t, filepath.Join(dir, c.name+".key"), c.keyUID, c.keyGID)
	}
	if sc.setup != nil {
		sc.setup(t, dir)
	}
	return filepath.Join(dir, "nginx.conf")
}

// nginxDump runs `nginx -T -p DIR/ -c CONF` in a private network namespace (nginx -T binds
// every listen address; in its own namespace it touches none of the machine's sockets).
func nginxDump(t *testing.T, nginx, dir, conf string) (stdout, stderr []byte, ok bool) {
	t.Helper()
	unshare := testenv.RequireTool(t, "unshare")
	cmd := exec.Command(unshare, "--net", "--", "sh", "-c", `ip link set lo up && exec "$0" -T -p "$1" -c "$2"`, nginx, dir+"/", conf)
	cmd.Env = []string{"LC_ALL=C", "PATH=" + host.SearchPath}
	cmd.Dir = "/"
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run nginx -T: %v", err)
	}
	return out.Bytes(), errb.Bytes(), err == nil
}

// TestNginxScenarios writes each scenario to its own prefix, has the real nginx check and
// print it (`nginx -T`), and requires: nginx accepts exactly the scenarios meant to be
// valid and the parser rejects the others; the tree parsed from nginx's output equals the
// tree the file parser builds from the same files (same directives, arguments, files,
// lines and file list); every check gives the same verdict on both; and the verdicts match
// the scenario's expectations. SA_NGINX_CAPTURE=DIR keeps each scenario's nginx -T output
// and nginx -V output there; SA_NGINX_VERBOSE=1 logs every verdict with its details.
func TestNginxScenarios(t *testing.T) {
	testenv.RequireRoot(t)
	nginx := testenv.RequireTool(t, "nginx")
	testenv.RequireTool(t, "ip")
	vOut, err := exec.Command(nginx, "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -V: %v\n%s", err, vOut)
	}
	build, ok := parseBuild(vOut)
	if !ok {
		t.Fatalf("cannot read nginx -V output:\n%s", vOut)
	}
	build.Source = "nginx -V"
	h, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	capture := os.Getenv("SA_NGINX_CAPTURE")
	if capture != "" {
		if err := os.WriteFile(filepath.Join(capture, "nginx-V.txt"), vOut, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	accepted, rejected, compared, expectations := 0, 0, 0, 0
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := writeScenario(t, dir, sc)
			stdout, stderr, ok := nginxDump(t, nginx, dir, conf)
			fileRes, fileErr := parseConfig(fsSource{h.FS()}, conf, "")
			if sc.reject {
				if ok {
					t.Fatalf("nginx accepts a configuration meant to be invalid:\n%s", stdout)
				}
				if fileErr == nil {
					t.Fatalf("nginx rejects the configuration (%s) but the parser accepts it", nginxError(stderr))
				}
				if !errors.Is(fileErr, checks.ErrParse) && !errors.Is(fileErr, os.ErrNotExist) {
					t.Errorf("parser error is neither a parse error nor a missing file: %v", fileErr)
				}
				rejected++
				return
			}
			if !ok {
				t.Fatalf("nginx rejects the scenario: %s", stderr)
			}
			accepted++
			if capture != "" {
				_ = os.WriteFile(filepath.Join(capture, sc.name+"-T.txt"), stdout, 0o644)
			}
			if fileErr != nil {
				t.Fatalf("nginx accepts the configuration but the parser fails: %v", fileErr)
			}
			dumpRes, err := parseDump(stdout, "")
			if err != nil {
				t.Fatalf("parse nginx -T output: %v", err)
			}
			if !slices.Equal(dumpRes.files, fileRes.files) {
				t.Errorf("files: nginx -T printed %q, the parser read %q", dumpRes.files, fileRes.files)
			}
			if a, b := treeString(dumpRes.main), treeString(fileRes.main); a != b {
				t.Errorf("trees differ\nnginx -T:\n%s\nparser:\n%s", a, b)
			}
			viaDump := &state{installed: true, build: build, cfg: newConfig(dumpRes, SourceNginxT, "", conf, dir+"/")}
			viaFiles := &state{installed: true, build: build, cfg: newConfig(fileRes, SourceParser, "test", conf, dir+"/")}
			for _, c := range evalFuncs() {
				a := evaluate(h, viaDump, c.eval, now)
				b := evaluate(h, viaFiles, c.eval, now)
				if verdict(a) != verdict(b) {
					t.Errorf("%s differs:\n  nginx -T: %s\n  parser:   %s", c.id, verdict(a), verdict(b))
				}
				compared++
				if os.Getenv("SA_NGINX_VERBOSE") != "" {
					t.Logf("%s: %s\n    %s", c.id, verdict(a), strings.Join(a.Details, "\n    "))
				}
				if w, ok := sc.want[c.id]; ok {
					expectations++
					if a.Status != w {
						t.Errorf("%s: %s, want %s: %s\n    %s", c.id, a.Status, w, a.Message, strings.Join(a.Details, "\n    "))
					}
				}
			}
		})
	}
	t.Logf("%d scenarios: %d accepted by nginx (trees and %d verdicts compared, %d expectations), %d rejected by both nginx and the parser",
		accepted+rejected, accepted, compared, expectations, rejected)
	if accepted+rejected == len(scenarios()) && accepted < 30 {
		t.Errorf("only %d accepted scenarios; at least 30 are required", accepted)
	}
}
