package host

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Defaults of the command runner.
const (
	DefaultCommandTimeout = 5 * time.Second
	DefaultMaxOutput      = 4 << 20
	// SearchPath is the PATH commands are looked up in and run with; the caller's
	// environment is not inherited.
	SearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Output is what a command produced.
type Output struct {
	Stdout []byte
	Stderr []byte
	// ExitCode is the exit status; -1 when killed by a signal.
	ExitCode int
	// Truncated is true when stdout or stderr exceeded the cap and was cut.
	Truncated bool
}

// Runner runs commands without a shell.
type Runner struct {
	timeout   time.Duration
	maxOutput int
}

// NewRunner returns a Runner; zero values select the defaults.
func NewRunner(timeout time.Duration, maxOutput int) *Runner {
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	if maxOutput <= 0 {
		maxOutput = DefaultMaxOutput
	}
	return &Runner{timeout: timeout, maxOutput: maxOutput}
}

// LookPath finds a command in SearchPath.
func LookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if err := executable(name); err != nil {
			return "", fmt.Errorf("%s: %w", name, ErrCommandNotFound)
		}
		return name, nil
	}
	for _, dir := range filepath.SplitList(SearchPath) {
		p := filepath.Join(dir, name)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrCommandNotFound)
}

func executable(p string) error {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Mode&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// Run runs argv with the runner's timeout (or ctx's earlier deadline). The process runs in
// its own process group, which is killed as a whole on timeout and once the command has
// exited, so a command that forks and hangs can neither hold the audit nor outlive it. A non-zero exit is data (Output.ExitCode), not an error.
// Errors: ErrCommandNotFound, ErrTimeout, or the context's error.
func (r *Runner) Run(ctx context.Context, argv ...string) (Output, error) {
	if len(argv) == 0 {
		return Output{}, errors.New("run: empty command")
	}
	bin, err := LookPath(argv[0])
	if err != nil {
		return Output{}, fmt.Errorf("run %s: %w", argv[0], err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	stdout := &capBuffer{limit: r.maxOutput}
	stderr := &capBuffer{limit: r.maxOutput}
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=" + SearchPath}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 500 * time.Millisecond
	runErr := cmd.Run()
	if cmd.Process != nil {
		// The command has exited (or was killed); children it left behind in its process
		// group, for example a background process still holding the output pipe, are
		// killed too, so that running a check leaves no process behind.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	out := Output{Stdout: stdout.buf, Stderr: stderr.buf, Truncated: stdout.truncated || stderr.truncated}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return out, fmt.Errorf("run %s: %w", commandName(argv), ErrTimeout)
		}
		return out, fmt.Errorf("run %s: %w", commandName(argv), ctx.Err())
	}
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		out.ExitCode = exitErr.ExitCode()
	case errors.Is(runErr, exec.ErrWaitDelay):
		// The command exited but a child kept its output open; what it wrote is kept.
	default:
		return out, fmt.Errorf("run %s: %w", commandName(argv), runErr)
	}
	return out, nil
}

func commandName(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	return filepath.Base(argv[0])
}

// capBuffer keeps the first limit bytes written and discards the rest, so a flooding
// command neither exhausts memory nor blocks on a full pipe.
type capBuffer struct {
	buf       []byte
	limit     int
	truncated bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	room := c.limit - len(c.buf)
	if len(p) > room {
		c.truncated = true
		if room > 0 {
			c.buf = append(c.buf, p[:room]...)
		}
		return len(p), nil
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}
