// Command server-audit-api receives server-audit uploads, stores them in PostgreSQL and
// generates reports with River jobs. See docs/api.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/securecodehq/server-audit/server/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
