package docker

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
)

// BenchmarkDockerdFamily measures the whole docker family (all checks, one fresh collection
// per iteration: ping, version, info, container list, bridge network, 20 inspects, daemon.json,
// the dockerd process scan) against a real dockerd with 20 containers. Root, dockerd and
// busybox-static are needed; the firewall join reads the daemon's namespace.
func BenchmarkDockerdFamily(b *testing.B) {
	d := startDaemon(b)
	d.importBusybox()
	for i := range 20 {
		opts := []string{"run", "-d", "--name", fmt.Sprintf("c%02d", i), "-e", "SA_TOKEN=" + plantedSecret}
		switch i % 4 {
		case 0:
			opts = append(opts, "-p", fmt.Sprintf("127.0.0.1:%d:80", 19000+i))
		case 1:
			opts = append(opts, "--user", "1000", "--memory", "32m", "--pids-limit", "32", "--cap-drop", "ALL")
		case 2:
			opts = append(opts, "-v", "/etc:/host-etc:ro", "--cap-add", "NET_ADMIN")
		}
		d.cli(nil, append(opts, "sa-busybox:test", "sleep", "3600")...)
	}
	h := newPrivateHost(b, d)
	if got := evaluateAll(h)["docker.resource-limits"].Facts["examined"]; got != int64(20) {
		b.Fatalf("examined %v containers, want 20", got)
	}
	b.ResetTimer()
	b.Run("family", func(b *testing.B) {
		for b.Loop() {
			evaluateAll(h)
		}
	})
	b.Run("engine-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := newCollector(noEnv).Get(context.Background(), h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFixtureCollect measures the collection from canned answers (the risky fixture,
// ten containers, served in process) without a daemon.
func BenchmarkFixtureCollect(b *testing.B) {
	f, err := checktest.Load(filepath.Join("testdata", "fixtures", "risky-containers"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c := newCollector(noEnv)
		if _, err := c.Get(context.Background(), f.Host); err != nil {
			b.Fatal(err)
		}
	}
}
