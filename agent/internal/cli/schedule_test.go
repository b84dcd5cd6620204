package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestScheduleCommand(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc/cron.d", "etc/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	install := []string{"schedule", "install", "--root", root, "--method", "cron", "--interval", "hourly",
		"--randomized-delay", "20m", "--binary", "/usr/local/bin/server-audit"}
	code, out, errOut := runCLI(t, install...)
	if code != ExitOK || !strings.Contains(out, "created  /etc/cron.d/server-audit") {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, install...)
	if code != ExitOK || !strings.Contains(out, "nothing changed") {
		t.Fatalf("second install: exit %d\n%s", code, out)
	}

	code, out, _ = runCLI(t, "schedule", "status", "--root", root, "-o", "json")
	var st struct {
		Method   string `json:"method"`
		Interval string `json:"interval"`
		Enabled  bool   `json:"enabled"`
		NextRun  string `json:"next_run"`
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil || st.Method != "cron" || st.Interval != "hourly" || !st.Enabled || st.NextRun == "" {
		t.Fatalf("status: exit %d %+v\n%s", code, st, out)
	}
	code, out, _ = runCLI(t, "schedule", "status", "--root", root)
	if code != ExitOK || !strings.Contains(out, "schedule:  cron, hourly, enabled") || !strings.Contains(out, "next run:") {
		t.Fatalf("status text: exit %d\n%s", code, out)
	}

	code, out, _ = runCLI(t, "schedule", "remove", "--root", root)
	if code != ExitOK || !strings.Contains(out, "removed  /etc/cron.d/server-audit") {
		t.Fatalf("remove: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/cron.d/server-audit")); !os.IsNotExist(err) {
		t.Errorf("cron entry still there: %v", err)
	}
	code, out, _ = runCLI(t, "schedule", "status", "--root", root)
	if code != ExitOK || !strings.Contains(out, "not installed") {
		t.Fatalf("status after remove: exit %d\n%s", code, out)
	}
}

func TestScheduleCommandUsageErrors(t *testing.T) {
	root := t.TempDir()
	cases := [][]string{
		{"schedule", "install", "--root", root, "--interval", "monthly"},
		{"schedule", "install", "--root", root, "--method", "launchd"},
		{"schedule", "install", "--root", root, "--interval", "hourly", "--randomized-delay", "2h"},
		{"schedule", "install", "--root", root, "--randomized-delay", "soon"},
		{"schedule", "status", "--root", root, "-o", "yaml"},
		{"schedule", "install", "--root", root, "--method", "cron", "--binary", "/usr/local/bin/server-audit"}, // no /etc/cron.d
	}
	for _, args := range cases {
		code, out, errOut := runCLI(t, args...)
		if code != ExitUsage || !strings.Contains(errOut, "server-audit: ") {
			t.Errorf("%v: exit %d, want %d\n%s%s", args, code, ExitUsage, out, errOut)
		}
	}
}
