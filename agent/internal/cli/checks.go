package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/checks/all"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

func newChecksCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List and explain the checks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newChecksListCommand(streams), newChecksExplainCommand(streams))
	return cmd
}

// builtinEntries returns the catalog entries of the checks built into this agent, in
// report order.
func builtinEntries(cat *catalog.Catalog) []catalog.Entry {
	var out []catalog.Entry
	for _, c := range all.Checks() {
		if e, ok := cat.Lookup(c.ID()); ok {
			out = append(out, e)
		}
	}
	return out
}

func checkCompletions() []string {
	cat, err := catalog.Load()
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range builtinEntries(cat) {
		if !seen[e.Family()] {
			seen[e.Family()] = true
			out = append(out, e.Family()+"\t"+cat.FamilyTitle(e.Family()))
		}
		out = append(out, e.ID+"\t"+e.Title)
	}
	return out
}

func newChecksListCommand(streams Streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every check with its severity",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cat, err := loadCatalog()
			if err != nil {
				return err
			}
			entries := builtinEntries(cat)
			switch output {
			case "table":
				return listTable(streams.Out, entries)
			case "json":
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			return usageErrorf("--output %q: want table or json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json (json includes rationale, remediation, references and fact schemas)")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func listTable(w io.Writer, entries []catalog.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tNEEDS LIVE HOST\tTITLE")
	for _, e := range entries {
		live := "no"
		if e.Live {
			live = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.ID, e.Severity, live, e.Title)
	}
	return tw.Flush()
}

func newChecksExplainCommand(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "explain ID",
		Short: "Explain a check: why it matters, how to fix it, and exactly what it may send",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var ids []string
			for _, c := range checkCompletions() {
				if strings.Contains(c, ".") {
					ids = append(ids, c)
				}
			}
			return ids, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			cat, err := loadCatalog()
			if err != nil {
				return err
			}
			e, ok := cat.Lookup(args[0])
			if !ok {
				var similar []string
				for _, id := range cat.IDs() {
					if strings.Contains(id, args[0]) {
						similar = append(similar, id)
					}
				}
				if len(similar) > 0 {
					return usageErrorf("unknown check %q; did you mean %s?", args[0], strings.Join(similar, ", "))
				}
				return usageErrorf("unknown check %q; see `server-audit checks list`", args[0])
			}
			explain(streams.Out, cat, e)
			return nil
		},
	}
}

func explain(w io.Writer, cat *catalog.Catalog, e catalog.Entry) {
	fmt.Fprintf(w, "%s — %s\n\n", e.ID, e.Title)
	fmt.Fprintf(w, "Family:    %s (%s)\n", e.Family(), cat.FamilyTitle(e.Family()))
	fmt.Fprintf(w, "Severity:  %s\n", e.Severity)
	if e.Live {
		fmt.Fprintln(w, "Needs:     the running system (skipped with not_live on an offline --root)")
	}
	fmt.Fprintf(w, "\nWhy it matters\n%s\n", indent(wrap(strings.TrimSpace(e.Rationale), 90)))
	fmt.Fprintf(w, "\nHow to fix\n%s\n", indent(wrap(strings.TrimSpace(e.Remediation), 90)))
	if len(e.References) > 0 {
		fmt.Fprintln(w, "\nReferences")
		for _, r := range e.References {
			if r.URL != "" {
				fmt.Fprintf(w, "  - %s <%s>\n", r.Title, r.URL)
			} else {
				fmt.Fprintf(w, "  - %s\n", r.Title)
			}
		}
	}
	fmt.Fprintln(w, "\nWhat an upload may contain for this check")
	fmt.Fprintln(w, "  id, status, severity, a reason code for skips and errors, and these facts only:")
	if len(e.Facts) == 0 {
		fmt.Fprintln(w, "  (no facts)")
	}
	keys := make([]string, 0, len(e.Facts))
	for k := range e.Facts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  - %s (%s): %s\n", k, describeSchema(e.Facts[k]), e.Facts[k].Description)
	}
}

func describeSchema(s catalog.FactSchema) string {
	var d string
	switch s.Type {
	case catalog.FactInt:
		d = fmt.Sprintf("integer %d..%d", *s.Min, *s.Max)
	case catalog.FactEnum:
		d = "one of " + strings.Join(s.Values, ", ") + ", other"
	case catalog.FactObject:
		d = "opaque per-host id"
	default:
		d = string(s.Type)
	}
	if s.List {
		d = "list of " + d
	}
	return d
}

// wrap breaks text into lines of at most width columns at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(text) {
		if col > 0 && col+1+len(word) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

func indent(text string) string {
	return "  " + strings.ReplaceAll(text, "\n", "\n  ")
}
