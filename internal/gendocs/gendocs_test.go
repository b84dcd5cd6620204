package gendocs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/internal/testenv"
)

func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "A tool", Long: "Tool does things.\n\n  tool sub --x\n\n.dot and \\backslash and -dash."}
	sub := &cobra.Command{Use: "sub", Short: "Do a sub-thing", Example: "  tool sub --level 3", RunE: func(*cobra.Command, []string) error { return nil }}
	sub.Flags().IntP("level", "l", 1, "how much `N`")
	sub.Flags().String("secret", "", "hidden flag")
	_ = sub.Flags().MarkHidden("secret")
	hidden := &cobra.Command{Use: "internal", Hidden: true, RunE: func(*cobra.Command, []string) error { return nil }}
	root.PersistentFlags().Bool("verbose", false, "talk more")
	root.AddCommand(sub, hidden, Command())
	return root
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	root := tree()
	root.SetArgs([]string{"gendocs", "--date", "2026-02-03", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"man1/tool.1", "man1/tool-sub.1", "man1/tool-completion-bash.1",
		"completions/tool.bash", "completions/tool.zsh", "completions/tool.fish"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("missing %s: %v", want, err)
		}
	}
	for _, absent := range []string{"man1/tool-internal.1", "man1/tool-gendocs.1", "man1/tool-help.1"} {
		if _, err := os.Stat(filepath.Join(dir, absent)); err == nil {
			t.Errorf("hidden command documented: %s", absent)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "man1/tool-sub.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`.TH "TOOL\-SUB" 1 "2026\-02\-03"`, `\fB\-l\fR, \fB\-\-level\fR \fIN\fR`, "how much N (default 1)",
		`\fB\-\-verbose\fR`, "OPTIONS INHERITED FROM PARENT COMMANDS", `.BR tool (1)`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("tool-sub.1 lacks %q:\n%s", want, page)
		}
	}
	if bytes.Contains(page, []byte("secret")) {
		t.Error("hidden flag documented")
	}
	rootPage, _ := os.ReadFile(filepath.Join(dir, "man1/tool.1"))
	if !bytes.Contains(rootPage, []byte("\n\\&.dot and \\ebackslash and \\-dash.\n")) {
		t.Errorf("escaping:\n%s", rootPage)
	}
	bash, _ := os.ReadFile(filepath.Join(dir, "completions/tool.bash"))
	if !bytes.Contains(bash, []byte("__start_tool")) {
		t.Error("bash completion does not look like one")
	}
}

// TestManLint renders every page with groff's warnings on: none may warn.
func TestManLint(t *testing.T) {
	groff := testenv.RequireTool(t, "groff")
	dir := t.TempDir()
	if err := Write(tree(), dir, "2026-02-03"); err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "man1", "*.1"))
	for _, p := range pages {
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", p)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("groff %s: %v\n%s", filepath.Base(p), err, out)
		}
		if strings.Contains(string(out), "warning") {
			t.Errorf("groff warns on %s", p)
		}
	}
}
