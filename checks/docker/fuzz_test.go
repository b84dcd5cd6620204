package docker

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/securecodehq/server-audit/checks"
)

func FuzzParseDaemonJSON(f *testing.F) {
	for _, s := range []string{"", "{}", `{"icc": false, "hosts": ["tcp://0.0.0.0:2375"], "log-opts": {"max-size": "1m"}}`,
		"\xef\xbb\xbf{}", `{"icc": 1}`, `{"a": {"b": [1, 2, {"c": null}]}}`, `{} x`, `null`} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("testdata/fixtures/hardened/root/etc/docker/daemon.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseDaemonJSON(data)
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		c := effectiveConfig{file: "daemon.json", flagsFrom: "flags", origin: map[string]string{}}
		c.merge(s, settings{})
		_ = c.iccOn()
		_ = c.bindIP()
		for _, h := range c.hosts {
			hostScope(h)
		}
	})
}

func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{"-H\x00fd://", "--icc=false\x00--tlsverify", "-Htcp://:2375\x00--log-opt\x00max-size=1m",
		"--config-file", "--log-opt=\x00--", "--iptables=maybe\x00-H=\x00-H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		got := parseFlags(args)
		if len(got.hosts) > len(args) || len(got.insecureRegistries) > len(args) {
			t.Fatalf("more values than arguments: %+v", got)
		}
	})
}

func FuzzUnitExec(f *testing.F) {
	for _, s := range []string{"[Service]\nExecStart=/usr/bin/dockerd -H fd:// $OPTS\n", "ExecStart=\n", "a \\\nb 'c d' \"e\n",
		"[Service]\nExecStart=-@/usr/bin/dockerd \\\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range unitLines(s) {
			for _, w := range splitExec(l) {
				if strings.HasPrefix(w, "$") {
					t.Fatalf("variable reference %q kept", w)
				}
			}
		}
	})
}

// FuzzFromInspect decodes inspect answers as the client does and requires fromInspect to
// keep no environment value.
func FuzzFromInspect(f *testing.F) {
	files, _ := filepath.Glob("testdata/fixtures/risky-containers/docker-api/containers/*.json")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"Id": "x", "Name": "/a", "Config": {"Env": ["K=value-of-env"], "User": "0"},
		"HostConfig": {"Binds": ["/etc:/e:ro", "vol:/v"], "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
		"SecurityOpt": ["seccomp:unconfined", "no-new-privileges"], "PidsLimit": -1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp container.InspectResponse
		if json.Unmarshal(data, &resp) != nil {
			return
		}
		c := fromInspect(resp)
		if resp.Config == nil {
			return
		}
		got := strings.Join(stringsOf(reflect.ValueOf(c)), "\x00")
		for _, e := range resp.Config.Env {
			_, v, _ := strings.Cut(e, "=")
			if len(v) >= 12 && strings.Contains(got, v) && !strings.Contains(string(mustJSON(resp.ContainerJSONBase))+string(mustJSON(resp.Mounts))+resp.Config.User, v) {
				t.Fatalf("environment value %q kept", v)
			}
		}
	})
}

func mustJSON(v any) []byte {
	data, _ := json.Marshal(v)
	return data
}
