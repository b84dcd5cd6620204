// Package cli is the command line of server-audit-api: serve, migrate and token
// create/list/revoke. Flags bind into option structs (see package config); nothing is
// package-level.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/internal/gendocs"
	"github.com/securecodehq/server-audit/pkg/version"
	"github.com/securecodehq/server-audit/server/internal/config"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// env is what the commands read from the process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	common         config.Common
}

// usageError marks errors that are the user's invocation, not the run.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Main runs the command line with args (without the program name) and returns the exit code.
// Tokens go to stdout; everything else (logs, messages) to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(stderr)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "server-audit-api:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitError
}

// isCobraUsage recognises cobra's own argument and flag errors, which it returns unwrapped.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument", "accepts ", "requires ", "flag needs an argument", "required flag"} {
		if len(msg) >= len(prefix) && msg[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "server-audit-api",
		Short:         "The server-audit API: receives agent uploads and builds reports",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Get().Version,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			for c := cmd; c != nil; c = c.Parent() {
				if err := config.ApplyEnv(c.Flags(), e.getenv); err != nil {
					return usageError{err}
				}
				if err := config.ApplyEnv(c.PersistentFlags(), e.getenv); err != nil {
					return usageError{err}
				}
			}
			if _, err := e.common.Level(); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	config.BindCommon(root.PersistentFlags(), &e.common)
	root.AddCommand(newServeCmd(e), newMigrateCmd(e), newTokenCmd(e), gendocs.Command())
	root.CompletionOptions.HiddenDefaultCmd = true
	return root
}

// logger returns the JSON logger on stderr at the configured level.
func (e *env) logger() *slog.Logger {
	level, _ := e.common.Level()
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}

func newMigrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations (the application's and River's)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := e.common.CheckDatabase(); err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			pool, err := store.OpenPool(ctx, e.common.DatabaseURL, store.PoolOptions{MaxConns: 4})
			if err != nil {
				return err
			}
			defer pool.Close()
			res, err := store.Migrate(ctx, pool, e.logger())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "migrations applied: application %v, river %v\n", orNone(res.App), orNone(res.River))
			return nil
		},
	}
}

func orNone(v []int) any {
	if len(v) == 0 {
		return "none (up to date)"
	}
	return v
}
