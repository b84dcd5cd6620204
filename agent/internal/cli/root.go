// Package cli implements the server-audit command line: cobra commands whose flags bind
// into per-command option structs.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/pkg/catalog"
)

// Exit codes (DESIGN §5).
const (
	// ExitOK: no finding at or above --fail-on.
	ExitOK = 0
	// ExitFindings: at least one finding at or above --fail-on.
	ExitFindings = 1
	// ExitUsage: usage or configuration error.
	ExitUsage = 2
	// ExitUploadFailed: the upload failed and the payload was spooled.
	ExitUploadFailed = 3
	// ExitCheckErrors: checks errored and --strict was given.
	ExitCheckErrors = 4
)

// Streams are the process's standard streams.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a usage or configuration error (exit 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode is a result that is not an error but sets the exit status (1, 4).
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// Main runs the command line and returns the process exit code.
func Main(args []string, streams Streams) int {
	root := newRootCommand(streams)
	root.SetArgs(args)
	err := root.Execute()
	var code exitCode
	var exitErr *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &exitErr):
		fmt.Fprintf(streams.Err, "server-audit: %v\n", exitErr.err)
		return exitErr.code
	default:
		// cobra's own errors: unknown command or flag, bad arguments.
		fmt.Fprintf(streams.Err, "server-audit: %v\nRun 'server-audit --help' for usage.\n", err)
		return ExitUsage
	}
}

func newRootCommand(streams Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "server-audit",
		Short: "Audit the security of this Linux server",
		Long: `server-audit audits the Linux host it runs on — kernel and account hardening, and
(in later releases) SSH, firewall, listening ports, Nginx, Docker and packages — and prints
a report with a fix for every finding.

Nothing leaves the machine unless you upload results, and an upload carries only redacted
results: states, numbers, versions. See 'server-audit run --help'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	root.AddCommand(newRunCommand(streams), newChecksCommand(streams), newVersionCommand(streams),
		newScheduleCommand(streams), newGendocsCommand(), newSpoolCommand(streams))
	return root
}

// newLogger returns the stderr logger: warnings by default, debug with --verbose.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// loadCatalog loads the embedded catalog; failure is a build defect.
func loadCatalog() (*catalog.Catalog, error) {
	cat, err := catalog.Load()
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: fmt.Errorf("load the check catalog: %w", err)}
	}
	return cat, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty(f)
}
