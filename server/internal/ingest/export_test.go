package ingest

import (
	"context"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// SetAfterResults installs the test hook that runs inside the ingest transaction after the
// results are written and before the job is inserted.
func SetAfterResults(s *Service, f func(ctx context.Context) error) { s.afterResults = f }

// DecodeCanonical exposes the fast-path decoder.
func DecodeCanonical(cat *catalog.Catalog, b []byte) (*report.Payload, bool) {
	return decodeCanonical(b, newInternTable(cat))
}
