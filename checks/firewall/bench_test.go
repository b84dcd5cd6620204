package firewall

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
)

// BenchmarkInbound measures one Inbound question on ufw's ruleset (190 rules, iptables-nft).
func BenchmarkInbound(b *testing.B) {
	f, err := checktest.Load(filepath.Join("testdata", "fixtures", "ufw-nft"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewCollector().Get(context.Background(), f.Host)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Inbound(i%2 == 0, "tcp", 1+i%65535)
	}
}

// BenchmarkParseNft measures parsing nft's JSON of ufw's ruleset (57 kB).
func BenchmarkParseNft(b *testing.B) {
	data, err := os.ReadFile("testdata/fixtures/ufw-nft/commands/nft.json")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := parseNft(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollect measures the whole collection of a fixture host (files and canned
// command outputs, parsing, derived defaults).
func BenchmarkCollect(b *testing.B) {
	f, err := checktest.Load(filepath.Join("testdata", "fixtures", "ufw-nft"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		collect(context.Background(), f.Host)
	}
}
