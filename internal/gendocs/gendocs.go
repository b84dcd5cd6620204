// Package gendocs writes man pages (roff, section 1) and shell completions (bash, zsh, fish)
// from a cobra command tree. Both binaries expose it as a hidden command, so the release
// build generates the files from the same commands users run:
//
//	server-audit gendocs --date 2026-01-31 DIR  # DIR/man1/*.1 and DIR/completions/server-audit.{bash,zsh,fish}
//
// It depends on cobra only, so the agent can import it.
package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Command is the hidden `gendocs [--date YYYY-MM-DD] DIR` command; it documents the root
// of the tree it is added to. The date printed in the man pages' footer is a flag (the
// release passes the commit date) so builds from the same commit are reproducible.
func Command() *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:    "gendocs DIR",
		Short:  "Write man pages and shell completions into DIR (used by the release build)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return Write(cmd.Root(), args[0], date)
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "date for the man pages' footer, e.g. the commit date")
	return cmd
}

// Write writes DIR/man1/<path>.1 for every visible command and DIR/completions/<name>.bash,
// .zsh and .fish for the root.
func Write(root *cobra.Command, dir, date string) error {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	manDir := filepath.Join(dir, "man1")
	if err := os.MkdirAll(manDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", manDir, err)
	}
	var pages []*cobra.Command
	collect(root, &pages)
	for _, c := range pages {
		var buf bytes.Buffer
		Man(&buf, c, date)
		name := filepath.Join(manDir, pageName(c)+".1")
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	compDir := filepath.Join(dir, "completions")
	if err := os.MkdirAll(compDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", compDir, err)
	}
	gens := []struct {
		ext string
		gen func(*bytes.Buffer) error
	}{
		{"bash", func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) }},
		{"zsh", func(b *bytes.Buffer) error { return root.GenZshCompletion(b) }},
		{"fish", func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) }},
	}
	for _, g := range gens {
		var buf bytes.Buffer
		if err := g.gen(&buf); err != nil {
			return fmt.Errorf("generate %s completion: %w", g.ext, err)
		}
		name := filepath.Join(compDir, root.Name()+"."+g.ext)
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// collect lists c and its documented descendants (hidden, deprecated and the help command
// are left out).
func collect(c *cobra.Command, out *[]*cobra.Command) {
	if c.Hidden || c.Deprecated != "" || c.Name() == "help" {
		return
	}
	*out = append(*out, c)
	for _, sub := range c.Commands() {
		collect(sub, out)
	}
}

// pageName is "server-audit-schedule-install" for `server-audit schedule install`.
func pageName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// Man writes the man page of c.
func Man(b *bytes.Buffer, c *cobra.Command, date string) {
	root := c.Root().Name()
	title := strings.ToUpper(pageName(c))
	fmt.Fprintf(b, ".TH %s 1 %s %s %s\n", quote(title), quote(date), quote(root), quote("User Commands"))
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(b, "%s \\- %s\n", escape(pageName(c)), escape(c.Short))

	b.WriteString(".SH SYNOPSIS\n")
	fmt.Fprintf(b, ".B %s\n", escape(c.CommandPath()))
	if use := strings.TrimSpace(strings.TrimPrefix(c.UseLine(), c.CommandPath())); use != "" {
		fmt.Fprintf(b, "%s\n", escape(use))
	}

	b.WriteString(".SH DESCRIPTION\n")
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	paragraphs(b, desc)

	if flags := c.NonInheritedFlags(); flags.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS\n")
		flagList(b, flags)
	}
	if flags := c.InheritedFlags(); flags.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS INHERITED FROM PARENT COMMANDS\n")
		flagList(b, flags)
	}
	if c.Example != "" {
		b.WriteString(".SH EXAMPLES\n.nf\n")
		for _, line := range strings.Split(strings.TrimRight(c.Example, "\n"), "\n") {
			fmt.Fprintf(b, "%s\n", escapeLine(line))
		}
		b.WriteString(".fi\n")
	}

	var see []string
	if c.HasParent() {
		see = append(see, pageName(c.Parent()))
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && sub.Name() != "help" {
			see = append(see, pageName(sub))
		}
	}
	if len(see) > 0 {
		sort.Strings(see)
		b.WriteString(".SH SEE ALSO\n")
		for i, s := range see {
			sep := ","
			if i == len(see)-1 {
				sep = ""
			}
			fmt.Fprintf(b, ".BR %s (1)%s\n", escape(s), sep)
		}
	}
}

// flagList writes one tagged paragraph per visible flag.
func flagList(b *bytes.Buffer, flags *pflag.FlagSet) {
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" {
			return
		}
		b.WriteString(".TP\n")
		name := "\\fB\\-\\-" + escape(f.Name) + "\\fR"
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			name = "\\fB\\-" + escape(f.Shorthand) + "\\fR, " + name
		}
		varname, usage := pflag.UnquoteUsage(f)
		if varname != "" {
			name += " \\fI" + escape(varname) + "\\fR"
		}
		b.WriteString(name + "\n")
		text := usage
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" {
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(b, "%s\n", escapeLine(text))
	})
}

// paragraphs writes text with blank lines as paragraph breaks and indented lines verbatim.
func paragraphs(b *bytes.Buffer, text string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		lines := strings.Split(para, "\n")
		verbatim := false
		for _, l := range lines {
			if strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "\t") {
				verbatim = true
			}
		}
		if verbatim {
			b.WriteString(".nf\n")
		}
		for _, l := range lines {
			fmt.Fprintf(b, "%s\n", escapeLine(l))
		}
		if verbatim {
			b.WriteString(".fi\n")
		}
	}
}

// escape makes text safe inside a roff line: backslashes and hyphens (so they stay ASCII
// hyphen-minus in copied commands).
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	return strings.ReplaceAll(s, "-", `\-`)
}

// escapeLine escapes a whole input line: a leading dot or apostrophe would be read as a
// request.
func escapeLine(s string) string {
	s = escape(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// quote quotes a .TH argument.
func quote(s string) string {
	return `"` + strings.ReplaceAll(escape(s), `"`, `\(dq`) + `"`
}
