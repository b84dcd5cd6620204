package nginx

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
)

// benchServers is the number of server blocks in the benchmark fixture.
const benchServers = 50

// benchFixture writes a host with benchServers server blocks (half TLS, half plain-HTTP
// redirects, one site file each, every TLS server with four locations) and returns its root
// and the matching `nginx -T` output.
func benchFixture(b *testing.B) (string, string) {
	b.Helper()
	root := b.TempDir()
	write := func(name, content string) {
		full := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	data, err := os.ReadFile("testdata/fixtures/live-hardened/root/etc/nginx/nginx.conf")
	if err != nil {
		b.Fatal(err)
	}
	write("etc/nginx/nginx.conf", string(data))
	files := map[string]string{"/etc/nginx/nginx.conf": string(data)}
	order := []string{"/etc/nginx/nginx.conf"}
	for _, name := range []string{"mime.types", "conf.d/security-headers.conf", "ssl/example.org.crt"} {
		data, err := os.ReadFile("testdata/fixtures/live-hardened/root/etc/nginx/" + name)
		if err != nil {
			b.Fatal(err)
		}
		write("etc/nginx/"+name, string(data))
		if !strings.HasPrefix(name, "ssl/") {
			files["/etc/nginx/"+name] = string(data)
			order = append(order, "/etc/nginx/"+name)
		}
	}
	write("etc/nginx/ssl/example.org.key", "not read\n")
	write("etc/nginx/modules-enabled/.keep", "")
	for i := range benchServers {
		name := fmt.Sprintf("/etc/nginx/sites-enabled/site%02d", i)
		var site string
		if i%2 == 0 {
			site = fmt.Sprintf("server {\n\tlisten 80;\n\tserver_name site%02d.example;\n\tlocation /.well-known/acme-challenge/ { root /var/www/acme; }\n\tlocation / { return 301 https://$host$request_uri; }\n}\n", i)
		} else {
			site = fmt.Sprintf(`server {
	listen 443 ssl http2;
	server_name site%02d.example;
	ssl_certificate /etc/nginx/ssl/example.org.crt;
	ssl_certificate_key /etc/nginx/ssl/example.org.key;
	root /var/www/site%02d;
	location ~ /\.(?!well-known) { deny all; }
	location / { try_files $uri $uri/ =404; }
	location /api/ { proxy_pass http://127.0.0.1:%d; proxy_set_header Host $host; }
	location /static/ { alias /var/www/static%02d/; expires 7d; add_header Cache-Control public; }
}
`, i, i, 8000+i, i)
		}
		write(name[1:], site)
		files[name] = site
		order = append(order, name)
	}
	// nginx opens the files in include order: main, mime.types, conf.d, sites-enabled.
	var dump strings.Builder
	for _, name := range order {
		fmt.Fprintf(&dump, "# configuration file %s:\n%s\n", name, files[name])
	}
	write("proc/812/comm", "nginx\n")
	write("proc/812/cmdline", "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;\x00")
	write("proc/812/status", "Name:\tnginx\nUid:\t0\t0\t0\t0\n")
	if err := os.Symlink("/usr/sbin/nginx", filepath.Join(root, "proc/812/exe")); err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"813", "814"} {
		write("proc/"+p+"/comm", "nginx\n")
		write("proc/"+p+"/cmdline", "nginx: worker process\x00")
		write("proc/"+p+"/status", "Name:\tnginx\nUid:\t33\t33\t33\t33\n")
	}
	return root, dump.String()
}

func benchHost(b *testing.B, live bool) *checktest.Host {
	root, dump := benchFixture(b)
	version, err := os.ReadFile("testdata/fixtures/live-hardened/commands/nginx-V.txt")
	if err != nil {
		b.Fatal(err)
	}
	h, err := checktest.NewHost(root, checktest.Spec{Live: live, Commands: []checktest.Command{
		{Argv: []string{"/usr/sbin/nginx", "-V"}, Stdout: string(version)},
		{Argv: []string{"/usr/sbin/nginx", "-T"}, Stdout: dump},
	}})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkCollectDump50 measures the live collection on 50 server blocks: the /proc scan,
// nginx -V and nginx -T (canned), splitting and parsing the dump.
func BenchmarkCollectDump50(b *testing.B) {
	h := benchHost(b, true)
	s, err := collect(context.Background(), h)
	if err != nil || s.cfg == nil || s.cfg.Source != SourceNginxT || len(s.cfg.Servers) != benchServers {
		b.Fatalf("collect: %v %+v", err, s)
	}
	for b.Loop() {
		if _, err := collect(context.Background(), h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollectFiles50 measures the offline collection on 50 server blocks: the binary
// is absent, the files are parsed with their includes.
func BenchmarkCollectFiles50(b *testing.B) {
	h := benchHost(b, false)
	s, err := collect(context.Background(), h)
	if err != nil || s.cfg == nil || s.cfg.Source != SourceParser || len(s.cfg.Servers) != benchServers {
		b.Fatalf("collect: %v %+v", err, s)
	}
	for b.Loop() {
		if _, err := collect(context.Background(), h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllChecks50 measures collection plus all checks (a fresh memo each time) on the
// live 50-server host.
func BenchmarkAllChecks50(b *testing.B) {
	h := benchHost(b, true)
	for b.Loop() {
		for _, c := range Checks() {
			res := checktest.Evaluate(h, c)
			if !res.Status.Valid() {
				b.Fatal(res)
			}
		}
	}
}

// BenchmarkCollectThisHost measures the collection on this machine (nginx -V, and nginx -T
// only when nginx runs).
func BenchmarkCollectThisHost(b *testing.B) {
	h, err := host.New(host.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := collect(context.Background(), h); err != nil {
			b.Fatal(err)
		}
	}
}
