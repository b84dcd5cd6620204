package payloadgen_test

import (
	"bytes"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
)

func TestPayloadsDecodeLikeAgentUploads(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 30, 120} {
		p, err := payloadgen.Payload(cat, "", payloadgen.Options{Results: n})
		if err != nil {
			t.Fatal(err)
		}
		want := n
		if n == 0 || n > len(cat.Checks) {
			want = len(cat.Checks)
		}
		if len(p.Results) != want {
			t.Fatalf("Results %d: got %d results, want %d", n, len(p.Results), want)
		}
		plain, _, err := payloadgen.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := report.DecodePayload(bytes.NewReader(plain), cat); err != nil {
			t.Fatalf("Results %d: %v", n, err)
		}
	}
}
