package docker

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// envWith is an environment holding only DOCKER_HOST.
func envWith(dockerHost string) func(string) string {
	return func(k string) string {
		if k == "DOCKER_HOST" {
			return dockerHost
		}
		return ""
	}
}

// byID returns the check called id.
func byID(t *testing.T, list []checks.Check, id string) checks.Check {
	t.Helper()
	for _, c := range list {
		if c.ID() == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

// liveHost is the running system.
func liveHost(t *testing.T) host.Host {
	t.Helper()
	h, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHangingSocketTimesOut: a real Unix socket that accepts and never answers ends in
// status error (timeout) from the per-request deadline, not the check's own deadline.
func TestHangingSocketTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	list := checksWith(newCollector(envWith("unix://"+path)), nil)
	h := liveHost(t)
	for _, id := range []string{"docker.privileged-containers", "docker.userns"} {
		res := checktest.Evaluate(h, byID(t, list, id))
		if res.Status != report.StatusError || res.Reason != report.ReasonTimeout {
			t.Fatalf("%s: %s/%s (%s), want error/timeout", id, res.Status, res.Reason, res.Message)
		}
		if !strings.Contains(res.Message, "did not answer within "+apiTimeout.String()) {
			t.Errorf("%s: message %q does not name the per-request deadline", id, res.Message)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(held) != 1 {
		t.Errorf("the daemon was dialled %d times, want once (the ping; nothing after it)", len(held))
	}
}

// TestRefusedSocketSkips: a socket file nobody listens on means the daemon is not running.
func TestRefusedSocketSkips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	h := liveHost(t)
	proc, err := h.Proc()
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := findDaemons(proc); len(d) > 0 || len(discoverSockets(h.FS(), "", nil)) > 0 {
		t.Skip("this machine runs its own Docker daemon")
	}
	list := checksWith(newCollector(envWith("unix://"+path)), nil)
	res := checktest.Evaluate(h, byID(t, list, "docker.privileged-containers"))
	if res.Status != report.StatusSkip || res.Reason != report.ReasonNotRunning || !strings.Contains(res.Message, "not running") {
		t.Errorf("refused: %s/%s %q, want skip/not_applicable (not running)", res.Status, res.Reason, res.Message)
	}
	if res := checktest.Evaluate(h, byID(t, list, "docker.socket-permissions")); res.Status == report.StatusSkip {
		t.Errorf("socket-permissions skipped (%s) although the socket file exists", res.Message)
	}
}

// TestNoSocketSkips: a live host without socket, process, binary or unit.
func TestNoSocketSkips(t *testing.T) {
	h, err := checktest.NewHost(t.TempDir(), checktest.Spec{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checksWith(newCollector(envWith("tcp://192.0.2.1:2375")), nil) {
		res := checktest.Evaluate(h, c)
		if res.Status != report.StatusSkip || res.Reason != report.ReasonNotInstalled {
			t.Errorf("%s: %s/%s, want skip/not_installed", c.ID(), res.Status, res.Reason)
		}
		if !strings.Contains(strings.Join(res.Details, "\n"), "does not dial") {
			t.Errorf("%s: the tcp:// DOCKER_HOST is not reported: %q", c.ID(), res.Details)
		}
	}
}

// TestOfflineRootNeverDials: an offline root answers ErrNotLive and the collector never
// tries a socket.
func TestOfflineRootNeverDials(t *testing.T) {
	h := &countingHost{Host: mustHost(t, "testdata/fixtures/offline-root/root", checktest.Spec{})}
	for _, c := range checksWith(newCollector(noEnv), nil) {
		checktest.Evaluate(h, c)
	}
	if h.dials != 0 {
		t.Errorf("%d dials on an offline root", h.dials)
	}
}

func mustHost(t *testing.T, root string, spec checktest.Spec) *checktest.Host {
	t.Helper()
	h, err := checktest.NewHost(root, spec)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// countingHost counts DialUnix calls.
type countingHost struct {
	*checktest.Host
	mu    sync.Mutex
	dials int
}

func (c *countingHost) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	c.mu.Lock()
	c.dials++
	c.mu.Unlock()
	return nil, errors.New("no dialling in this test")
}
