package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/agent/internal/schedule"
)

type scheduleOptions struct {
	interval string
	method   string
	delay    string
	root     string
	binary   string
	output   string
}

func newScheduleCommand(streams Streams) *cobra.Command {
	opts := &scheduleOptions{}
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run the audit periodically (systemd timer or cron)",
		Long: `Install, remove or show the periodic run of 'server-audit run'.

With systemd the command writes a hardened server-audit.service and server-audit.timer to
/etc/systemd/system and enables the timer; with cron it writes /etc/cron.d/server-audit.
The scheduled run reads the upload token from /etc/server-audit/token and its settings from
/etc/server-audit/config.yaml: no token is ever on a command line. Its JSON report is kept
in /var/lib/server-audit/last-report.json.

'install' is idempotent: running it again with the same flags changes nothing, and running
it with other flags (or another method) replaces the previous schedule.`,
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&opts.root, "root", "/", "write under this root directory instead of / (image builds, tests)")
	_ = cmd.MarkPersistentFlagDirname("root")

	install := &cobra.Command{
		Use:   "install",
		Short: "Install (or update) the schedule",
		Example: `  server-audit schedule install
  server-audit schedule install --interval hourly --randomized-delay 10m
  server-audit schedule install --method cron --interval weekly`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := opts.build(true)
			if err != nil {
				return err
			}
			res, err := schedule.Install(cmd.Context(), o)
			printChanges(streams, res)
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			if len(res.Changes) == 0 {
				fmt.Fprintf(streams.Out, "schedule already installed (%s, %s); nothing changed\n", res.Method, o.Interval)
			} else {
				fmt.Fprintf(streams.Out, "schedule installed: %s, %s\n", res.Method, o.Interval)
			}
			return nil
		},
	}
	f := install.Flags()
	f.StringVar(&opts.interval, "interval", string(schedule.Daily), "hourly, daily or weekly")
	f.StringVar(&opts.method, "method", string(schedule.Auto), "systemd, cron or auto (systemd when it is running, else cron)")
	f.StringVar(&opts.delay, "randomized-delay", "", "spread runs by up to this duration, e.g. 30m (default 15m hourly, 1h otherwise; cron uses a fixed per-host offset)")
	f.StringVar(&opts.binary, "binary", "", "path of server-audit on the target host (default: this executable)")
	_ = install.RegisterFlagCompletionFunc("interval", fixedCompletions(string(schedule.Hourly), string(schedule.Daily), string(schedule.Weekly)))
	_ = install.RegisterFlagCompletionFunc("method", fixedCompletions(string(schedule.Systemd), string(schedule.Cron), string(schedule.Auto)))

	remove := &cobra.Command{
		Use:   "remove",
		Short: "Remove the schedule (the state directory and its reports are kept)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := schedule.Remove(cmd.Context(), schedule.Options{Root: opts.root})
			printChanges(streams, res)
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			if len(res.Changes) == 0 {
				fmt.Fprintln(streams.Out, "no schedule installed; nothing changed")
			}
			return nil
		},
	}

	status := &cobra.Command{
		Use:   "status",
		Short: "Show the schedule, the last run and the next run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := schedule.Status(cmd.Context(), schedule.Options{Root: opts.root}, time.Now())
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			return printStatus(streams, st, opts.output)
		},
	}
	status.Flags().StringVarP(&opts.output, "output", "o", "text", "text or json")
	_ = status.RegisterFlagCompletionFunc("output", fixedCompletions("text", "json"))

	cmd.AddCommand(install, remove, status)
	return cmd
}

// build turns the flags into schedule options.
func (s *scheduleOptions) build(install bool) (schedule.Options, error) {
	o := schedule.Options{Root: s.root, RandomizedDelay: -1}
	if !install {
		return o, nil
	}
	iv, err := schedule.ParseInterval(s.interval)
	if err != nil {
		return o, usageErrorf("--interval: %v", err)
	}
	o.Interval = iv
	m, err := schedule.ParseMethod(s.method)
	if err != nil {
		return o, usageErrorf("--method: %v", err)
	}
	o.Method = m
	if s.delay != "" {
		d, err := time.ParseDuration(s.delay)
		if err != nil || d < 0 {
			return o, usageErrorf("--randomized-delay %q: want a duration such as 30m or 2h", s.delay)
		}
		if d >= iv.Duration() {
			return o, usageErrorf("--randomized-delay %s: must be shorter than the interval (%s)", d, iv)
		}
		o.RandomizedDelay = d
	}
	o.Binary = s.binary
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return o, usageErrorf("find this executable: %v; pass --binary", err)
		}
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		o.Binary = exe
	}
	return o, nil
}

func printChanges(streams Streams, res *schedule.Result) {
	if res == nil {
		return
	}
	for _, c := range res.Changes {
		fmt.Fprintf(streams.Out, "%-8s %s\n", c.Action, c.Path)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(streams.Err, "server-audit: %s\n", n)
	}
}

func printStatus(streams Streams, st *schedule.State, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	case "text":
	default:
		return usageErrorf("--output %q: want text or json", output)
	}
	w := streams.Out
	if st.Method == "" {
		fmt.Fprintln(w, "schedule:  not installed (server-audit schedule install)")
	} else {
		enabled := "enabled"
		if !st.Enabled {
			enabled = "not enabled"
		}
		fmt.Fprintf(w, "schedule:  %s, %s, %s\n", st.Method, orUnknown(string(st.Interval)), enabled)
		for _, f := range st.Files {
			fmt.Fprintf(w, "file:      %s\n", f)
		}
	}
	fmt.Fprintf(w, "last run:  %s\n", stamp(st.LastRun))
	if st.LastScore != "" {
		fmt.Fprintf(w, "score:     %s\n", st.LastScore)
	}
	if st.Method != "" {
		fmt.Fprintf(w, "next run:  %s\n", stamp(st.NextRun))
	}
	for _, n := range st.Notes {
		fmt.Fprintf(w, "note:      %s\n", n)
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown interval"
	}
	return s
}

// fixedCompletions completes a flag from a fixed list.
func fixedCompletions(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
