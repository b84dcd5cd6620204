package host_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

func TestRunNonZeroExitIsData(t *testing.T) {
	r := host.NewRunner(5*time.Second, 0)
	out, err := r.Run(context.Background(), "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.ExitCode != 3 {
		t.Errorf("ExitCode = %d, want 3", out.ExitCode)
	}
	if string(out.Stdout) != "to-stdout\n" || string(out.Stderr) != "to-stderr\n" {
		t.Errorf("Stdout = %q, Stderr = %q", out.Stdout, out.Stderr)
	}
	if out.Truncated {
		t.Error("Truncated set for small output")
	}

	out, err = r.Run(context.Background(), "true")
	if err != nil || out.ExitCode != 0 || len(out.Stdout) != 0 || len(out.Stderr) != 0 {
		t.Errorf("Run(true) = %+v, %v", out, err)
	}
	// Killed by a signal: exit code -1, still not a Go error.
	out, err = r.Run(context.Background(), "sh", "-c", "kill -9 $$")
	if err != nil || out.ExitCode != -1 {
		t.Errorf("Run(self-kill) = exit %d, %v; want -1, nil", out.ExitCode, err)
	}
}

func TestRunArgvIsNotAShell(t *testing.T) {
	r := host.NewRunner(5*time.Second, 0)
	arg := "$HOME; echo injected `id` | cat > /dev/null * ?"
	out, err := r.Run(context.Background(), "printf", "%s", arg)
	if err != nil || string(out.Stdout) != arg {
		t.Fatalf("printf %%s %q = %q, %v; arguments must be passed verbatim", arg, out.Stdout, err)
	}
	out, err = r.Run(context.Background(), "pwd")
	if err != nil || string(out.Stdout) != "/\n" {
		t.Fatalf("pwd = %q, %v; commands run in /", out.Stdout, err)
	}
}

func TestRunEnvironmentIsExact(t *testing.T) {
	const secret = "sk_live_runner_test_9f8e7d6c5b4a"
	t.Setenv("SERVER_AUDIT_TEST_SECRET", secret)
	t.Setenv("PATH", "/nonexistent-dir-for-test")
	t.Setenv("LC_ALL", "de_DE.UTF-8")
	r := host.NewRunner(5*time.Second, 0)
	env := "/usr/bin/env"
	if _, err := os.Stat(env); err != nil {
		env = "env"
	}
	out, err := r.Run(context.Background(), env)
	if err != nil || out.ExitCode != 0 {
		t.Fatalf("Run(env) = %+v, %v", out, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out.Stdout), "\n"), "\n")
	slices.Sort(got)
	want := []string{"LANG=C", "LC_ALL=C", "PATH=" + host.SearchPath}
	if !slices.Equal(got, want) {
		t.Errorf("environment = %q, want exactly %q", got, want)
	}
	if bytes.Contains(out.Stdout, []byte(secret)) {
		t.Error("the test process's environment leaked into the command")
	}
}

func TestRunMissingCommand(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := host.NewRunner(5*time.Second, 0)
	for _, argv := range [][]string{
		{"server-audit-no-such-command-xyz"},
		{"/nonexistent/bin/tool", "-v"},
		{notExec},
		{dir}, // a directory
	} {
		out, err := r.Run(context.Background(), argv...)
		if !errors.Is(err, host.ErrCommandNotFound) {
			t.Errorf("Run(%q) = %+v, %v; want ErrCommandNotFound", argv, out, err)
			continue
		}
		reason, skip := checks.Classify(err)
		if reason != report.ReasonNotInstalled || !skip {
			t.Errorf("Classify(%v) = %s, %v; want not_installed skip", err, reason, skip)
		}
		res := checks.FromError("run", err)
		if res.Status != report.StatusSkip || res.Reason != report.ReasonNotInstalled {
			t.Errorf("FromError(%v) = %+v", err, res)
		}
	}
	if _, err := r.Run(context.Background()); err == nil {
		t.Error("Run() with no argv succeeded")
	}
}

func TestLookPathUsesSearchPathOnly(t *testing.T) {
	t.Setenv("PATH", "/nonexistent-dir-for-test")
	p, err := host.LookPath("sh")
	if err != nil {
		t.Fatalf("LookPath(sh) = %v", err)
	}
	if !slices.Contains(filepath.SplitList(host.SearchPath), filepath.Dir(p)) {
		t.Errorf("LookPath(sh) = %s, outside SearchPath", p)
	}
	// A directory that only the caller's PATH has is never searched.
	dir := t.TempDir()
	tool := filepath.Join(dir, "server-audit-private-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if p, err := host.LookPath("server-audit-private-tool"); !errors.Is(err, host.ErrCommandNotFound) {
		t.Errorf("LookPath found %s through the caller's PATH", p)
	}
	if p, err := host.LookPath(tool); err != nil || p != tool {
		t.Errorf("LookPath(%s) = %s, %v", tool, p, err)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return true
	}
	state := s[i+2]
	return state != 'Z' && state != 'X'
}

// waitDead waits up to 5 s for pid to die.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d survived the command", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readPid(t *testing.T, file string) int {
	t.Helper()
	var data []byte
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		data, err = os.ReadFile(file)
		if err == nil && strings.HasSuffix(string(data), "\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid file %s: %q, %v", file, data, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		t.Fatalf("pid file %s: %q", file, data)
	}
	return pid
}

func TestRunTimeoutKillsProcessGroup(t *testing.T) {
	// The first attempt uses a 300 ms timeout; on a machine so loaded that the shell was
	// killed before it could start its background child, a longer one is tried.
	for _, timeout := range []time.Duration{300 * time.Millisecond, 2 * time.Second} {
		pidFile := filepath.Join(t.TempDir(), "pid")
		r := host.NewRunner(timeout, 0)
		start := time.Now()
		out, err := r.Run(context.Background(), "sh", "-c", `echo started; sleep 100 & echo $! > `+pidFile+`; sleep 100`)
		elapsed := time.Since(start)
		if !errors.Is(err, host.ErrTimeout) {
			t.Fatalf("Run = %+v, %v; want ErrTimeout", out, err)
		}
		if elapsed > 5*time.Second+timeout {
			t.Errorf("Run returned after %v; the timeout was %v", elapsed, timeout)
		}
		reason, skip := checks.Classify(err)
		if reason != report.ReasonTimeout || skip {
			t.Errorf("Classify(%v) = %s, %v; want timeout error", err, reason, skip)
		}
		data, rerr := os.ReadFile(pidFile)
		if rerr != nil || !strings.HasSuffix(string(data), "\n") {
			t.Logf("timeout %v: the shell did not get to start its child; retrying", timeout)
			continue
		}
		if string(out.Stdout) != "started\n" {
			t.Errorf("output before the timeout = %q, want it kept", out.Stdout)
		}
		waitDead(t, readPid(t, pidFile))
		return
	}
	t.Fatal("the command never started its background child")
}

func TestRunKillsLeftoverChildren(t *testing.T) {
	// The command exits at once but leaves a background child holding its stdout. Run must
	// return (WaitDelay) and the child must not outlive it.
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := host.NewRunner(30*time.Second, 0)
	start := time.Now()
	out, err := r.Run(context.Background(), "sh", "-c", `sleep 100 & echo $! > `+pidFile+`; echo parent done`)
	elapsed := time.Since(start)
	if err != nil || out.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", out, err)
	}
	if string(out.Stdout) != "parent done\n" {
		t.Errorf("Stdout = %q", out.Stdout)
	}
	if elapsed > 10*time.Second {
		t.Errorf("Run waited %v for a background child", elapsed)
	}
	waitDead(t, readPid(t, pidFile))
}

func TestRunOutputCap(t *testing.T) {
	const limit = 1 << 20
	r := host.NewRunner(30*time.Second, limit)
	out, err := r.Run(context.Background(), "head", "-c", strconv.Itoa(10<<20), "/dev/zero")
	if err != nil || out.ExitCode != 0 {
		t.Fatalf("Run(head 10 MiB) = exit %d, %v", out.ExitCode, err)
	}
	if !out.Truncated || len(out.Stdout) != limit {
		t.Errorf("Truncated = %v, len(Stdout) = %d; want true, %d", out.Truncated, len(out.Stdout), limit)
	}
	// The cap applies to stderr separately.
	out, err = r.Run(context.Background(), "sh", "-c", "echo small; head -c 3000000 /dev/zero >&2")
	if err != nil || !out.Truncated || len(out.Stderr) != limit || string(out.Stdout) != "small\n" {
		t.Errorf("stderr flood: Truncated %v, len(Stderr) %d, Stdout %q, %v", out.Truncated, len(out.Stderr), out.Stdout, err)
	}
	// Exactly the cap is not truncated.
	small := host.NewRunner(5*time.Second, 1000)
	out, err = small.Run(context.Background(), "head", "-c", "1000", "/dev/zero")
	if err != nil || out.Truncated || len(out.Stdout) != 1000 {
		t.Errorf("exactly the cap: Truncated %v, len %d, %v", out.Truncated, len(out.Stdout), err)
	}
	out, err = small.Run(context.Background(), "head", "-c", "1001", "/dev/zero")
	if err != nil || !out.Truncated || len(out.Stdout) != 1000 {
		t.Errorf("one over the cap: Truncated %v, len %d, %v", out.Truncated, len(out.Stdout), err)
	}
}

func TestRunContextCancellation(t *testing.T) {
	r := host.NewRunner(30*time.Second, 0)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := r.Run(ctx, "sleep", "100")
	if !errors.Is(err, context.Canceled) || errors.Is(err, host.ErrTimeout) {
		t.Errorf("Run after cancel: %v; want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run returned %v after the cancellation", d)
	}

	// Already cancelled.
	if _, err := r.Run(ctx, "true"); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
	}

	// A caller deadline shorter than the runner's timeout is a timeout.
	dctx, dcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer dcancel()
	start = time.Now()
	if _, err := r.Run(dctx, "sleep", "100"); !errors.Is(err, host.ErrTimeout) {
		t.Errorf("Run past the caller's deadline: %v; want ErrTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run returned after %v", d)
	}
}

func TestNewRunnerDefaults(t *testing.T) {
	// Zero values select the defaults: a short command works and a large output is kept
	// up to DefaultMaxOutput.
	r := host.NewRunner(0, 0)
	out, err := r.Run(context.Background(), "head", "-c", strconv.Itoa(host.DefaultMaxOutput+10), "/dev/zero")
	if err != nil || !out.Truncated || len(out.Stdout) != host.DefaultMaxOutput {
		t.Errorf("defaults: len %d, Truncated %v, %v; want %d, true", len(out.Stdout), out.Truncated, err, host.DefaultMaxOutput)
	}
}
