package schedule

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/internal/golden"
	"github.com/securecodehq/server-audit/internal/testenv"
)

// newRoot builds a small host tree: systemd and cron directories with unrelated files that
// must survive install and remove.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"etc/systemd/system/ssh.service":                     "[Service]\nExecStart=/usr/sbin/sshd\n",
		"etc/systemd/system/multi-user.target.wants/.keep":   "",
		"etc/cron.d/e2scrub_all":                             "30 3 * * 0 root true\n",
		"etc/machine-id":                                     "3d1219c7c4c5404aaa1f6d2a48adfda4\n",
		"var/lib/server-audit/.keep":                         "",
		"etc/server-audit/config.yaml":                       "fail_on: high\n",
		"etc/systemd/system/sockets.target.wants/.keepalive": "",
	}
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// snapshot describes a tree: every path with its type, mode and content or link target.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link -> " + target
		case info.IsDir():
			out[rel] = fmt.Sprintf("dir %v", info.Mode())
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprintf("file %v %q mtime %d", info.Mode(), data, info.ModTime().UnixNano())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withoutMtime drops file mtimes (remove cannot restore a directory's listing order or an
// mtime; content and modes must be identical).
func withoutMtime(s map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range s {
		if i := strings.LastIndex(v, " mtime "); i >= 0 {
			v = v[:i]
		}
		out[k] = v
	}
	return out
}

func diff(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, "only before: "+k)
		} else if v != w {
			d = append(d, fmt.Sprintf("changed %s: %s -> %s", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "only after: "+k)
		}
	}
	slices.Sort(d)
	return d
}

// recorder records systemctl calls.
type recorder struct{ calls []string }

func (r *recorder) Run(_ context.Context, args ...string) ([]byte, error) {
	r.calls = append(r.calls, strings.Join(args, " "))
	return nil, nil
}

func TestInstallRemoveLeavesRootAsItWas(t *testing.T) {
	for _, method := range []Method{Systemd, Cron} {
		for _, interval := range []Interval{Hourly, Daily, Weekly} {
			t.Run(string(method)+"/"+string(interval), func(t *testing.T) {
				root := newRoot(t)
				before := snapshot(t, root)
				rec := &recorder{}
				opts := Options{Root: root, Method: method, Interval: interval, RandomizedDelay: -1,
					Binary: "/usr/local/bin/server-audit", Systemctl: rec}

				res, err := Install(context.Background(), opts)
				if err != nil {
					t.Fatalf("install: %v", err)
				}
				if res.Method != method || len(res.Changes) == 0 {
					t.Fatalf("install: method %s, changes %v", res.Method, res.Changes)
				}
				afterFirst := snapshot(t, root)
				if len(diff(before, afterFirst)) == 0 {
					t.Fatal("install changed nothing")
				}

				// A second install changes nothing: no file written, not even an mtime.
				res2, err := Install(context.Background(), opts)
				if err != nil {
					t.Fatalf("second install: %v", err)
				}
				if len(res2.Changes) != 0 {
					t.Errorf("second install changed %v", res2.Changes)
				}
				if d := diff(afterFirst, snapshot(t, root)); len(d) != 0 {
					t.Errorf("second install changed the tree:\n%s", strings.Join(d, "\n"))
				}

				rm, err := Remove(context.Background(), Options{Root: root, Systemctl: rec})
				if err != nil {
					t.Fatalf("remove: %v", err)
				}
				if len(rm.Changes) == 0 {
					t.Error("remove changed nothing")
				}
				if d := diff(withoutMtime(before), withoutMtime(snapshot(t, root))); len(d) != 0 {
					t.Errorf("install then remove left the root changed:\n%s", strings.Join(d, "\n"))
				}
				// An offline root never calls systemctl.
				if len(rec.calls) != 0 {
					t.Errorf("systemctl called on an offline root: %v", rec.calls)
				}
				rm2, err := Remove(context.Background(), Options{Root: root})
				if err != nil || len(rm2.Changes) != 0 {
					t.Errorf("second remove: %v, %v", rm2.Changes, err)
				}
			})
		}
	}
}

func TestInstallWritesExpectedFiles(t *testing.T) {
	root := newRoot(t)
	opts := Options{Root: root, Method: Systemd, Interval: Hourly, RandomizedDelay: 10 * time.Minute, Binary: "/usr/bin/server-audit"}
	if _, err := Install(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	timer := readFile(t, filepath.Join(root, SystemdDir, TimerName))
	for _, want := range []string{"OnCalendar=hourly\n", "RandomizedDelaySec=10min\n", "Persistent=true\n", "WantedBy=timers.target\n"} {
		if !strings.Contains(timer, want) {
			t.Errorf("timer lacks %q:\n%s", want, timer)
		}
	}
	service := readFile(t, filepath.Join(root, SystemdDir, ServiceName))
	for _, want := range []string{
		"ExecStart=/usr/bin/server-audit run --output json --output-file /var/lib/server-audit/last-report.json\n",
		"NoNewPrivileges=yes\n", "ProtectSystem=strict\n", "StateDirectory=server-audit\n", "PrivateTmp=yes\n",
		"ProtectHome=read-only\n",
	} {
		if !strings.Contains(service, want) {
			t.Errorf("service lacks %q", want)
		}
	}
	if strings.Contains(service, "--token") {
		t.Error("the scheduled command carries a token")
	}
	if target, err := os.Readlink(filepath.Join(root, WantsDir, TimerName)); err != nil || target != SystemdDir+"/"+TimerName {
		t.Errorf("timer not enabled: %q %v", target, err)
	}

	// Changing the interval rewrites the timer only; switching to cron removes the units.
	opts.Interval = Daily
	res, err := Install(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || res.Changes[0].Path != SystemdDir+"/"+TimerName || res.Changes[0].Action != "updated" {
		t.Errorf("interval change: %v", res.Changes)
	}
	opts.Method = Cron
	res, err = Install(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, c := range res.Changes {
		paths = append(paths, c.Action+" "+c.Path)
	}
	slices.Sort(paths)
	want := []string{"created /etc/cron.d/server-audit", "removed /etc/systemd/system/server-audit.service",
		"removed /etc/systemd/system/server-audit.timer", "removed /etc/systemd/system/timers.target.wants/server-audit.timer"}
	if !slices.Equal(paths, want) {
		t.Errorf("switch to cron:\n got %v\nwant %v", paths, want)
	}
	cron := readFile(t, filepath.Join(root, CronPath))
	if !strings.Contains(cron, " root umask 077 && mkdir -p /var/lib/server-audit && /usr/bin/server-audit run ") {
		t.Errorf("cron entry:\n%s", cron)
	}
	if st, _ := os.Stat(filepath.Join(root, CronPath)); st.Mode().Perm() != 0o644 {
		t.Errorf("cron entry mode %v", st.Mode())
	}
}

func TestInstallRefusesForeignFiles(t *testing.T) {
	root := newRoot(t)
	foreign := filepath.Join(root, SystemdDir, ServiceName)
	if err := os.WriteFile(foreign, []byte("[Service]\nExecStart=/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Install(context.Background(), Options{Root: root, Method: Systemd, Binary: "/usr/bin/server-audit", RandomizedDelay: -1})
	if err == nil || !strings.Contains(err.Error(), "not written by server-audit") {
		t.Fatalf("install over a foreign unit: %v", err)
	}
	if _, err := Remove(context.Background(), Options{Root: root}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, foreign); got != "[Service]\nExecStart=/bin/true\n" {
		t.Errorf("remove touched a foreign unit: %q", got)
	}
}

func TestInstallValidation(t *testing.T) {
	root := newRoot(t)
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"relative binary", Options{Binary: "server-audit"}, "binary path"},
		{"binary with space", Options{Binary: "/opt/my tools/server-audit"}, "binary path"},
		{"delay too long", Options{Binary: "/usr/bin/server-audit", Interval: Hourly, RandomizedDelay: time.Hour}, "shorter than the interval"},
		{"bad interval", Options{Binary: "/usr/bin/server-audit", Interval: "monthly"}, "want hourly, daily or weekly"},
		{"bad method", Options{Binary: "/usr/bin/server-audit", Method: "launchd"}, "want systemd, cron or auto"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Root = root
			_, err := Install(context.Background(), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	empty := t.TempDir()
	if _, err := Install(context.Background(), Options{Root: empty, Binary: "/usr/bin/server-audit"}); err == nil {
		t.Error("install into a root with neither systemd nor cron succeeded")
	}
}

func TestCronOffsetStableAndBounded(t *testing.T) {
	o := &Options{RandomizedDelay: time.Hour}
	a := cronOffset(o, []byte("machine-a"))
	if a != cronOffset(o, []byte("machine-a")) {
		t.Error("offset not stable")
	}
	seen := map[time.Duration]bool{}
	for i := range 50 {
		off := cronOffset(o, fmt.Appendf(nil, "machine-%d", i))
		if off < 0 || off >= time.Hour || off%time.Minute != 0 {
			t.Fatalf("offset %s out of range", off)
		}
		seen[off] = true
	}
	if len(seen) < 10 {
		t.Errorf("offsets not spread: %d distinct of 50", len(seen))
	}
	if got := cronSpec(Weekly, 25*time.Hour+7*time.Minute); got != "7 1 * * 2" {
		t.Errorf("weekly spec %q", got)
	}
	if got := cronSpec(Daily, 90*time.Minute); got != "30 1 * * *" {
		t.Errorf("daily spec %q", got)
	}
}

func TestStatus(t *testing.T) {
	root := newRoot(t)
	now := time.Date(2026, 3, 4, 10, 20, 0, 0, time.UTC) // a Wednesday
	st, err := Status(context.Background(), Options{Root: root}, now)
	if err != nil || st.Method != "" || st.Enabled {
		t.Fatalf("status before install: %+v %v", st, err)
	}

	if _, err := Install(context.Background(), Options{Root: root, Method: Cron, Interval: Weekly, RandomizedDelay: 0, Binary: "/usr/bin/server-audit"}); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(root, ReportPath)
	if err := os.WriteFile(report, []byte(`{"summary":{"score":87,"grade":"B","scored":true}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ran := time.Date(2026, 3, 2, 0, 0, 5, 0, time.UTC)
	if err := os.Chtimes(report, ran, ran); err != nil {
		t.Fatal(err)
	}
	st, err = Status(context.Background(), Options{Root: root}, now)
	if err != nil {
		t.Fatal(err)
	}
	wantNext := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC) // next Monday 00:00
	if st.Method != Cron || st.Interval != Weekly || !st.Enabled || !st.NextRun.Equal(wantNext) ||
		!st.LastRun.Equal(ran) || st.LastScore != "87/100, grade B" {
		t.Errorf("cron status: %+v", st)
	}

	if _, err := Install(context.Background(), Options{Root: root, Method: Systemd, Interval: Hourly, RandomizedDelay: -1, Binary: "/usr/bin/server-audit"}); err != nil {
		t.Fatal(err)
	}
	st, err = Status(context.Background(), Options{Root: root}, now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Method != Systemd || st.Interval != Hourly || !st.Enabled || len(st.Files) != 3 || !st.NextRun.IsZero() || len(st.Notes) == 0 {
		t.Errorf("systemd status on an offline root: %+v", st)
	}
}

func TestParseShow(t *testing.T) {
	props := parseShow([]byte("LastTriggerUSec=@1767225600\nNextElapseUSecRealtime=@1767229200\n"))
	if got := parseUnixStamp(props["LastTriggerUSec"]); !got.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("last %v", got)
	}
	if got := parseUnixStamp("n/a"); !got.IsZero() {
		t.Errorf("n/a parsed as %v", got)
	}
}

// TestPackagedUnits keeps the units shipped in the deb and rpm (packaging/systemd) equal to
// what `schedule install` writes for the package's binary path and defaults; -update
// rewrites them.
func TestPackagedUnits(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "packaging", "systemd")
	golden.Assert(t, filepath.Join(dir, ServiceName), []byte(ServiceUnit("/usr/bin/server-audit")))
	golden.Assert(t, filepath.Join(dir, TimerName), []byte(TimerUnit(Daily, Daily.DefaultDelay())))
}

// TestUnitsVerify runs systemd-analyze verify on the units install writes, for every
// interval (the binary must exist for verify, so a real file stands in for it).
func TestUnitsVerify(t *testing.T) {
	analyze := testenv.RequireTool(t, "systemd-analyze")
	for _, interval := range []Interval{Hourly, Daily, Weekly} {
		t.Run(string(interval), func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "server-audit")
			if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			svc := filepath.Join(dir, ServiceName)
			tmr := filepath.Join(dir, TimerName)
			if err := os.WriteFile(svc, []byte(ServiceUnit(bin)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(tmr, []byte(TimerUnit(interval, interval.DefaultDelay())), 0o644); err != nil {
				t.Fatal(err)
			}
			VerifyUnits(t, analyze, svc, tmr)
		})
	}
}

// VerifyUnits runs `systemd-analyze verify` on unit files and fails on any complaint.
func VerifyUnits(t *testing.T, analyze string, units ...string) {
	t.Helper()
	args := append([]string{"verify", "--man=no"}, units...)
	cmd := exec.Command(analyze, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=notice")
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
