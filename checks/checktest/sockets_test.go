package checktest

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestSockets(t *testing.T) {
	api := t.TempDir()
	for name, body := range map[string]string{
		"_ping": "OK", "version.json": `{"ApiVersion": "1.47"}`, "containers.json": `[]`,
		"containers/abc.json": `{"Id": "abc"}`,
	} {
		p := filepath.Join(api, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	h, err := NewHost(root, Spec{Live: true, Sockets: map[string]Socket{
		"/var/run/docker.sock": {API: api}, "/run/docker.sock": {Refuse: true}, "/run/hang.sock": {Hang: true},
	}, Files: map[string]FileMeta{"/run/docker.sock": {Mode: "0666"}}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := h.FS().Stat("/run/docker.sock"); err != nil || fi.Mode&fs.ModeSocket == 0 || fi.Perm() != 0o666 {
		t.Errorf("stat: %v %v", fi.Mode, err)
	}
	if names, err := h.FS().ReadDir("/run"); err != nil || !slices.Equal(names, []string{"docker.sock", "hang.sock"}) {
		t.Errorf("ReadDir /run: %v %v", names, err)
	}
	client := func(path string) *http.Client {
		return &http.Client{Timeout: time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return h.DialUnix(ctx, path)
		}}}
	}
	c := client("/var/run/docker.sock")
	for path, want := range map[string]string{
		"/_ping": "OK", "/v1.47/version": `{"ApiVersion": "1.47"}`, "/v1.41/containers/json?all=1": `[]`,
		"/containers/abc/json": `{"Id": "abc"}`,
	} {
		resp, err := c.Get("http://docker" + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != want || resp.Header.Get("Api-Version") != "1.47" {
			t.Errorf("%s: %d %q (Api-Version %q)", path, resp.StatusCode, body, resp.Header.Get("Api-Version"))
		}
	}
	for _, path := range []string{"/info", "/containers/../../etc/passwd/json", "/containers/zzz/json"} {
		resp, err := c.Get("http://docker" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
	}
	if _, err := h.DialUnix(context.Background(), "/run/docker.sock"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refusing socket: %v", err)
	}
	if _, err := client("/run/hang.sock").Get("http://docker/_ping"); err == nil {
		t.Error("the hanging socket answered")
	}
}
