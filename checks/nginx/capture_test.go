package nginx

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/internal/testenv"
)

// capturedFixtures are the live fixtures whose commands/nginx-T.txt is the real output of
// nginx -T on the fixture's etc/nginx.
func capturedFixtures() []string {
	return []string{"live-hardened", "live-weak", "header-inheritance-trap"}
}

// TestFixtureDumpsMatchNginx runs the real `nginx -T` on the etc/nginx tree of each captured
// fixture and requires the committed commands/nginx-T.txt to be exactly what nginx prints,
// so that a fixture's configuration and its canned output cannot drift apart (and nginx
// must accept the fixture). The tree is bind-mounted on /etc/nginx inside private mount and
// network namespaces, with tmpfs on /run, /var/log and /var/lib, so that nginx sees the paths
// of a real host while the machine's own files, pid file and sockets stay untouched.
// SA_NGINX_CAPTURE_FIXTURES=1 rewrites the files (and commands/nginx-V.txt) instead.
func TestFixtureDumpsMatchNginx(t *testing.T) {
	testenv.RequireRoot(t)
	nginx := testenv.RequireTool(t, "nginx")
	unshare := testenv.RequireTool(t, "unshare")
	testenv.RequireTool(t, "ip")
	if fi, err := os.Stat("/etc/nginx"); err != nil || !fi.IsDir() {
		testenv.Unavailable(t, "/etc/nginx is needed as a mount point")
	}
	update := os.Getenv("SA_NGINX_CAPTURE_FIXTURES") != ""
	const script = `set -e
mount --bind "$1/root/etc/nginx" /etc/nginx
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log
mkdir /var/log/nginx
mount -t tmpfs tmpfs /var/lib
mkdir /var/lib/nginx
ip link set lo up
exec "$0" -T`
	for _, name := range capturedFixtures() {
		t.Run(name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("testdata", "fixtures", name))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(unshare, "--mount", "--propagation", "private", "--net", "--", "sh", "-c", script, nginx, dir)
			cmd.Env = []string{"LC_ALL=C", "PATH=" + host.SearchPath}
			cmd.Dir = "/"
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("nginx -T on the fixture: %v\n%s", err, stderr.Bytes())
			}
			path := filepath.Join(dir, "commands", "nginx-T.txt")
			if update {
				writeCapture(t, path, stdout.Bytes())
				v, err := exec.Command(nginx, "-V").CombinedOutput()
				if err != nil {
					t.Fatal(err)
				}
				writeCapture(t, filepath.Join(dir, "commands", "nginx-V.txt"), v)
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stdout.Bytes(), want) {
				t.Errorf("%s differs from what nginx -T prints for the fixture; rerun with SA_NGINX_CAPTURE_FIXTURES=1", path)
			}
		})
	}
}

func writeCapture(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
