package docker

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/checktest"
)

func ptr[T any](v T) *T { return &v }

func TestParseFlags(t *testing.T) {
	got := parseFlags([]string{
		"-H", "fd://", "-Htcp://0.0.0.0:2375", "--host=unix:///run/x.sock", "-H=tcp://127.0.0.1:2376",
		"--containerd=/run/containerd/containerd.sock", "--icc=false", "--tlsverify", "--iptables=0",
		"--no-new-privileges", "--userns-remap", "default", "--log-driver=local", "--log-opt", "max-size=10m",
		"--log-opt=max-file=3", "--insecure-registry", "10.0.0.0/8", "--ip=127.0.0.1", "--config-file",
		"/srv/daemon.json", "--tls=notabool", "--rootless", "--", "--icc=true",
	})
	want := settings{
		hosts: []string{"fd://", "tcp://0.0.0.0:2375", "unix:///run/x.sock", "tcp://127.0.0.1:2376"},
		icc:   ptr(false), tlsVerify: ptr(true), iptables: ptr(false), noNewPrivileges: ptr(true),
		usernsRemap: ptr("default"), logDriver: ptr("local"), logOpts: map[string]string{"max-size": "10m", "max-file": "3"},
		insecureRegistries: []string{"10.0.0.0/8"}, ip: ptr("127.0.0.1"), configFile: "/srv/daemon.json",
		rootless: ptr(true),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseFlags:\n got %+v\nwant %+v", got, want)
	}
	if s := parseFlags([]string{"-H"}); s.hosts != nil {
		t.Errorf("dangling -H gave hosts %v", s.hosts)
	}
}

func TestParseDaemonJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     settings
		err      bool
	}{
		{name: "empty", in: " \n"},
		{name: "bom", in: "\xef\xbb\xbf{\"icc\": false}", want: settings{icc: ptr(false)}},
		{name: "full", in: `{"hosts": ["fd://"], "tlsverify": true, "iptables": false, "userns-remap": "default",
			"log-opts": {"max-size": "10m"}, "insecure-registries": ["a:5000"], "live-restore": true}`,
			want: settings{hosts: []string{"fd://"}, tlsVerify: ptr(true), iptables: ptr(false), usernsRemap: ptr("default"),
				logOpts: map[string]string{"max-size": "10m"}, insecureRegistries: []string{"a:5000"}}},
		{name: "truncated", in: `{"icc": false,`, err: true},
		{name: "wrong type", in: `{"icc": "no"}`, err: true},
		{name: "trailing", in: `{"icc": false} {}`, err: true},
		{name: "array", in: `["icc"]`, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDaemonJSON([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, checks.ErrParse) {
					t.Fatalf("err = %v, want ErrParse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMergeFlagsOverrideFile(t *testing.T) {
	c := effectiveConfig{file: "/etc/docker/daemon.json", flagsFrom: "dockerd (pid 7) command line", origin: map[string]string{}}
	c.merge(settings{icc: ptr(false), iptables: ptr(false), hosts: []string{"fd://"}},
		settings{icc: ptr(true), hosts: []string{"fd://"}})
	if !c.iccOn() || c.iptablesOn() {
		t.Errorf("icc %v iptables %v, want flag icc true and file iptables false", c.iccOn(), c.iptablesOn())
	}
	if len(c.conflicts) != 1 || !strings.Contains(c.conflicts[0], "icc is false in /etc/docker/daemon.json but true") {
		t.Errorf("conflicts = %q", c.conflicts)
	}
	if c.from("iptables") != "/etc/docker/daemon.json" || c.from("icc") != "dockerd (pid 7) command line" || c.from("ip") != "the default" {
		t.Errorf("origins = %v", c.origin)
	}
}

func TestHostScope(t *testing.T) {
	for in, want := range map[string]tcpScope{
		"tcp://0.0.0.0:2375": scopeAll, "tcp://[::]:2375": scopeAll, "0.0.0.0:2375": scopeAll,
		"tcp://:2375": scopeLoopback, "tcp://": scopeLoopback, "tcp://127.0.0.1:2375": scopeLoopback,
		"tcp://[::1]:2376": scopeLoopback, "tcp://localhost:2375": scopeLoopback,
		"tcp://10.1.2.3:2376": scopeSpecific, "tcp://docker.internal:2376": scopeSpecific,
	} {
		if got, ok := hostScope(in); !ok || got != want {
			t.Errorf("hostScope(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"unix:///var/run/docker.sock", "fd://", "npipe:////./pipe/docker_engine"} {
		if _, ok := hostScope(in); ok {
			t.Errorf("hostScope(%q) is tcp", in)
		}
	}
}

func TestUnitFlags(t *testing.T) {
	root := t.TempDir()
	write := func(p, text string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lib/systemd/system/docker.service", "[Unit]\nExecStart=/nope -H tcp://0.0.0.0:1\n[Service]\nExecStart=/usr/bin/dockerd -H fd:// $DOCKER_OPTS\n")
	h, err := checktest.NewHost(root, checktest.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	s, from := readUnitFlags(h.FS())
	if !slices.Equal(s.hosts, []string{"fd://"}) || from != "/lib/systemd/system/docker.service ExecStart" {
		t.Errorf("packaged unit: hosts %v from %q", s.hosts, from)
	}
	write("etc/systemd/system/docker.service.d/10-tcp.conf", "[Service]\nExecStart=\nExecStart=-/usr/bin/dockerd \\\n  -H fd:// \\\n  -H 'tcp://0.0.0.0:2376' --tlsverify\n")
	s, _ = readUnitFlags(h.FS())
	if !slices.Equal(s.hosts, []string{"fd://", "tcp://0.0.0.0:2376"}) || s.tlsVerify == nil || !*s.tlsVerify {
		t.Errorf("drop-in: hosts %v tlsverify %v", s.hosts, s.tlsVerify)
	}
	write("etc/systemd/system/docker.service.d/20-reset.conf", "[Service]\nExecStart=\n")
	if s, from := readUnitFlags(h.FS()); s.hosts != nil || from != "" {
		t.Errorf("reset: hosts %v from %q", s.hosts, from)
	}
}

func TestSmallHelpers(t *testing.T) {
	for u, root := range map[string]bool{"": true, "0": true, "root": true, "0:0": true, "root:adm": true, "1000": false, "app:0": false, "nobody": false} {
		if isRootUser(u) != root {
			t.Errorf("isRootUser(%q) = %v", u, !root)
		}
	}
	if normCap("cap_sys_admin") != "SYS_ADMIN" || normCap(" NET_ADMIN ") != "NET_ADMIN" {
		t.Error("normCap")
	}
	for _, tc := range []struct {
		v, want string
		ok      bool
	}{{"1.43", "1.43", true}, {"1.51", "1.43", true}, {"1.41", "1.43", false}, {"2.0", "1.43", true}, {"", "1.43", false}} {
		if apiAtLeast(tc.v, tc.want) != tc.ok {
			t.Errorf("apiAtLeast(%q, %q) != %v", tc.v, tc.want, tc.ok)
		}
	}
	if rootlessUIDOf("/run/user/1000/docker.sock") != 1000 || rootlessUIDOf("/var/run/docker.sock") != -1 || rootlessUIDOf("/run/user/x/docker.sock") != -1 {
		t.Error("rootlessUIDOf")
	}
}

// TestFromInspectKeepsNoEnvironment decodes every captured inspect answer (which carry a
// planted secret in an environment variable, as real answers do) and checks that nothing
// the checks keep holds it, nor any other environment value, label, command or argument.
func TestFromInspectKeepsNoEnvironment(t *testing.T) {
	files, err := filepath.Glob("testdata/fixtures/*/docker-api/containers/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured containers: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var resp container.InspectResponse
		if err := json.Unmarshal(data, &resp); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if resp.Config == nil || !slices.ContainsFunc(resp.Config.Env, func(e string) bool { return strings.Contains(e, plantedSecret) }) {
			t.Fatalf("%s: the capture has no planted secret to look for", f)
		}
		// Short strings ("0", the argument of sleep 0) would match by chance.
		var forbidden []string
		for _, e := range resp.Config.Env {
			_, v, _ := strings.Cut(e, "=")
			forbidden = append(forbidden, e, v)
		}
		forbidden = append(forbidden, resp.Args...)
		for k, v := range resp.Config.Labels {
			forbidden = append(forbidden, k+"="+v)
		}
		got := strings.Join(stringsOf(reflect.ValueOf(fromInspect(resp))), "\n")
		for _, s := range forbidden {
			if len(s) >= 6 && strings.Contains(got, s) {
				t.Errorf("%s: containerInfo holds %q", f, s)
			}
		}
	}
}

// stringsOf collects every string reachable from v (unexported fields included).
func stringsOf(v reflect.Value) []string {
	switch v.Kind() {
	case reflect.String:
		return []string{v.String()}
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			out = append(out, stringsOf(v.Field(i))...)
		}
		return out
	case reflect.Slice, reflect.Array:
		var out []string
		for i := range v.Len() {
			out = append(out, stringsOf(v.Index(i))...)
		}
		return out
	case reflect.Map:
		var out []string
		for _, k := range v.MapKeys() {
			out = append(out, stringsOf(k)...)
			out = append(out, stringsOf(v.MapIndex(k))...)
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return stringsOf(v.Elem())
	}
	return nil
}
