package ssh

import (
	"context"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
)

// BenchmarkCollectOffline measures the whole collection on an offline root: the Go parser
// with includes and Match blocks, version detection, the sshd binary scan and the host keys.
func BenchmarkCollectOffline(b *testing.B) {
	fx, err := checktest.Load("testdata/fixtures/offline-parsed")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := collect(context.Background(), fx.Host); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseConfig measures the parser alone on the same root.
func BenchmarkParseConfig(b *testing.B) {
	fx, err := checktest.Load("testdata/fixtures/offline-parsed")
	if err != nil {
		b.Fatal(err)
	}
	v := Version{Major: 9, Minor: 2}
	opt := parseOptions{probe: defaultProbe, version: v, alg: algorithmsFor(v, buildInfo{})}
	for b.Loop() {
		if _, err := parseConfig(fx.Host.FS(), opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBuild measures the scan of this machine's sshd binary for build markers.
func BenchmarkReadBuild(b *testing.B) {
	fsys, err := host.NewFS("/")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := readBuild(context.Background(), fsys); err != nil {
		b.Skipf("no sshd binary: %v", err)
	}
	for b.Loop() {
		_, _ = readBuild(context.Background(), fsys)
	}
}

// BenchmarkCollectLive measures the collection on this machine: sshd -T and sshd -V run
// concurrently, plus the parser, the binary scan and the host keys.
func BenchmarkCollectLive(b *testing.B) {
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
