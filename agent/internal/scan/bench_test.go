package scan

import (
	"context"
	"testing"

	"github.com/securecodehq/server-audit/checks/all"
	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// BenchmarkAuditLive audits this machine with every built-in check, as `run` does, minus
// process start-up and rendering. The checks are built anew each time so that the families'
// per-host collections (sshd -T, the firewall rulesets, the sockets) run every iteration.
func BenchmarkAuditLive(b *testing.B) {
	cat, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	h, err := host.New(host.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Audit(context.Background(), h, "/", cat, all.Checks(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditFixture audits the weak fixture host, where every check has work to report.
func BenchmarkAuditFixture(b *testing.B) {
	cat, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	fx, err := checktest.Load("../../../checks/system/testdata/fixtures/host-weak")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Audit(context.Background(), fx.Host, "/", cat, all.Checks(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayload builds and validates the upload payload of a live audit.
func BenchmarkPayload(b *testing.B) {
	cat, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	h, err := host.New(host.Options{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := Audit(context.Background(), h, "/", cat, all.Checks(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	key := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		p, err := r.Payload(cat, report.PayloadOptions{ObjectKey: key})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCatalogLoad parses the embedded catalog, which every run does once.
func BenchmarkCatalogLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := catalog.Load(); err != nil {
			b.Fatal(err)
		}
	}
}
