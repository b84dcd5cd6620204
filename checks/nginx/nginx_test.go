package nginx

import (
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks/checktest"
)

// fixtureClock pins "now" for the certificate expiry goldens.
func fixtureClock() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

func TestFixtures(t *testing.T) {
	checktest.RunFixtures(t, "testdata/fixtures", checksAt(fixtureClock))
}
