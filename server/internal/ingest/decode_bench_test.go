package ingest_test

import (
	"bytes"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
)

// BenchmarkDecode measures the upload decoder on a 114-result payload: gzip, the strict
// JSON decode and validation of report.DecodePayload, and the score check.
func BenchmarkDecode(b *testing.B) {
	cat, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	p, err := payloadgen.Payload(cat, "", payloadgen.Options{Results: 120})
	if err != nil {
		b.Fatal(err)
	}
	plain, gz, err := payloadgen.Encode(p)
	if err != nil {
		b.Fatal(err)
	}
	d := ingest.NewDecoder(cat, ingest.Limits{})
	b.Run("gzip", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			if _, err := d.Decode(bytes.NewReader(gz), int64(len(gz)), "gzip"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodePayload", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			if _, err := report.DecodePayload(bytes.NewReader(plain), cat); err != nil {
				b.Fatal(err)
			}
		}
	})
}
