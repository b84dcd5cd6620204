// Command gencatalog writes catalog.json from catalog.yaml (run by `go generate` in
// pkg/catalog).
package main

import (
	"fmt"
	"os"

	"github.com/securecodehq/server-audit/pkg/catalog"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
}

func run() error {
	data, err := os.ReadFile("catalog.yaml")
	if err != nil {
		return err
	}
	cat, err := catalog.Parse(data)
	if err != nil {
		return err
	}
	out, err := cat.EncodeJSON()
	if err != nil {
		return err
	}
	return os.WriteFile("catalog.json", out, 0o644)
}
