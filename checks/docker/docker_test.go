package docker

import (
	"testing"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/checks/firewall"
)

func TestFixtures(t *testing.T) {
	checktest.RunFixtures(t, "testdata/fixtures", checksWith(newCollector(noEnv), firewall.NewCollector()))
}

// noEnv is an empty environment: fixtures never depend on the test's DOCKER_HOST.
func noEnv(string) string { return "" }
