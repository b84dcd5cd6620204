package ingest_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
)

func validBodies(tb testing.TB) (*catalog.Catalog, *report.Payload, []byte, []byte) {
	tb.Helper()
	cat, err := catalog.Load()
	if err != nil {
		tb.Fatal(err)
	}
	p, err := payloadgen.Payload(cat, "", payloadgen.Options{Results: 30})
	if err != nil {
		tb.Fatal(err)
	}
	plain, gz, err := payloadgen.Encode(p)
	if err != nil {
		tb.Fatal(err)
	}
	return cat, p, plain, gz
}

func kindOf(err error) ingest.Kind {
	var ie *ingest.Error
	if errors.As(err, &ie) {
		return ie.Kind
	}
	return 0
}

func TestDecode(t *testing.T) {
	cat, p, plain, gz := validBodies(t)
	d := ingest.NewDecoder(cat, ingest.Limits{MaxBody: 64 << 10, MaxDecompressed: 256 << 10})
	a, err := d.Decode(bytes.NewReader(gz), int64(len(gz)), "gzip")
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Decode(bytes.NewReader(plain), -1, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Payload.AuditID != p.AuditID || a.BodySHA256 != b.BodySHA256 {
		t.Fatal("gzip and identity bodies of the same bytes must decode alike")
	}
	for _, tc := range []struct {
		name string
		body []byte
		cl   int64
		ce   string
		want ingest.Kind
	}{
		{"declared too large", gz, 64<<10 + 1, "gzip", ingest.KindTooLarge},
		{"read too large", make([]byte, 64<<10+1), -1, "", ingest.KindTooLarge},
		{"bomb", payloadgen.Gzip(make([]byte, 1<<20)), -1, "gzip", ingest.KindTooLarge},
		{"encoding", gz, -1, "br", ingest.KindUnsupportedEncoding},
		{"two encodings", gz, -1, "gzip,gzip", ingest.KindUnsupportedEncoding},
		{"not gzip", plain, -1, "gzip", ingest.KindInvalidPayload},
		{"truncated gzip", gz[:len(gz)/2], -1, "gzip", ingest.KindInvalidPayload},
		{"empty", nil, 0, "", ingest.KindInvalidPayload},
		{"schema", []byte(strings.Replace(string(plain), `"schema_version":1`, `"schema_version":2`, 1)), -1, "", ingest.KindUnsupportedSchema},
		{"schema float", []byte(strings.Replace(string(plain), `"schema_version":1`, `"schema_version":1.5`, 1)), -1, "", ingest.KindUnsupportedSchema},
		{"null", []byte("null"), -1, "", ingest.KindInvalidPayload},
	} {
		_, err := d.Decode(bytes.NewReader(tc.body), tc.cl, tc.ce)
		if got := kindOf(err); got != tc.want {
			t.Errorf("%s: kind %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
	// x-gzip is gzip; a multi-member gzip stream is one body.
	var multi bytes.Buffer
	half := len(plain) / 2
	for _, part := range [][]byte{plain[:half], plain[half:]} {
		zw := gzip.NewWriter(&multi)
		zw.Write(part)
		zw.Close()
	}
	if _, err := d.Decode(bytes.NewReader(multi.Bytes()), -1, "x-gzip"); err != nil {
		t.Fatalf("multi-member gzip: %v", err)
	}
}

// FuzzIngestDecode feeds arbitrary bodies through the gzip and identity paths. Decode must
// never panic, and whatever it accepts must be a payload that validates and re-encodes to a
// body that decodes to the same payload.
func FuzzIngestDecode(f *testing.F) {
	cat, _, plain, gz := validBodies(f)
	f.Add(gz, true)
	f.Add(plain, false)
	f.Add(payloadgen.Gzip([]byte(`{"schema_version":2}`)), true)
	f.Add(payloadgen.Gzip(make([]byte, 4096)), true)
	f.Add([]byte(`{"schema_version":1,"audit_id":"x"}`), false)
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), true)
	f.Add([]byte(strings.Replace(string(plain), `"1.2.3"`, `"1.2.3 /etc/passwd"`, 1)), false)
	d := ingest.NewDecoder(cat, ingest.Limits{MaxBody: 256 << 10, MaxDecompressed: 1 << 20})
	f.Fuzz(func(t *testing.T, body []byte, gzipped bool) {
		ce := ""
		if gzipped {
			ce = "gzip"
		}
		dec, err := d.Decode(bytes.NewReader(body), -1, ce)
		if err != nil {
			if kindOf(err) == 0 {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if err := dec.Payload.Validate(cat); err != nil {
			t.Fatalf("accepted payload does not validate: %v", err)
		}
		again, err := dec.Payload.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		dec2, err := d.Decode(bytes.NewReader(again), -1, "")
		if err != nil {
			t.Fatalf("re-encoded payload rejected: %v", err)
		}
		if dec2.Payload.AuditID != dec.Payload.AuditID || len(dec2.Payload.Results) != len(dec.Payload.Results) {
			t.Fatal("re-encoded payload differs")
		}
	})
}
