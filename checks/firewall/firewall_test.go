package firewall

import (
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
)

func TestFixtures(t *testing.T) {
	checktest.RunFixtures(t, "testdata/fixtures", Checks(NewCollector()))
}
