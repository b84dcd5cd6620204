// Package testenv decides whether integration tests run. They run when their tools are
// present; SERVER_AUDIT_INTEGRATION=required (set by CI) turns a missing prerequisite into a
// failure instead of a skip. It also holds small helpers that tests of several packages share.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether integration prerequisites are mandatory.
func Required() bool { return os.Getenv("SERVER_AUDIT_INTEGRATION") == "required" }

// Unavailable skips the test with reason, or fails it when integration tests are required.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("integration prerequisite missing (SERVER_AUDIT_INTEGRATION=required): %s", reason)
	}
	t.Skipf("integration prerequisite missing: %s", reason)
}

// RequireTool returns the path of an executable, or skips/fails the test when it is absent.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
			if q, err2 := exec.LookPath(dir + "/" + name); err2 == nil {
				return q
			}
		}
		Unavailable(t, name+" is not installed")
	}
	return p
}

// RequireRoot skips/fails the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root")
	}
}
