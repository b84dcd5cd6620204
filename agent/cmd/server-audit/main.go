// Command server-audit audits the security of the Linux host it runs on.
package main

import (
	"os"

	"github.com/securecodehq/server-audit/agent/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
