package cli

import (
	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/internal/gendocs"
)

// newGendocsCommand is the hidden `gendocs DIR` command the release build uses to write the
// man pages and shell completions shipped in the archives and packages.
func newGendocsCommand() *cobra.Command { return gendocs.Command() }
