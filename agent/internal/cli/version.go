package cli

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/pkg/version"
)

func newVersionCommand(streams Streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info := version.Get()
			switch output {
			case "json":
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					version.Info
					Platform string `json:"platform"`
				}{info, runtime.GOOS + "/" + runtime.GOARCH})
			case "text":
				fmt.Fprintf(streams.Out, "server-audit %s", info.Version)
				if info.Commit != "" {
					fmt.Fprintf(streams.Out, " (commit %s", short(info.Commit))
					if info.Date != "" {
						fmt.Fprintf(streams.Out, ", built %s", info.Date)
					}
					fmt.Fprint(streams.Out, ")")
				}
				fmt.Fprintf(streams.Out, " %s %s/%s\n", info.GoVersion, runtime.GOOS, runtime.GOARCH)
				return nil
			}
			return usageErrorf("--output %q: want text or json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
