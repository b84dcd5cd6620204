package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/securecodehq/server-audit/agent/internal/config"
	"github.com/securecodehq/server-audit/agent/internal/scan"
	"github.com/securecodehq/server-audit/agent/internal/upload"
	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/all"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/format"
	"github.com/securecodehq/server-audit/pkg/report"

	"github.com/securecodehq/server-audit/agent/internal/atomicfile"
)

// objectKeyName is the file under the state directory holding the per-host secret that
// object names are hashed under. An upload creates it; a run without it uses a throwaway
// key.
const objectKeyName = "object.key"

// DefaultTimeout bounds a whole run.
const DefaultTimeout = 60 * time.Second

// failOnLevels are the accepted --fail-on values.
var failOnLevels = []string{"none", "low", "medium", "high", "critical"}

// defaultFailOn applies when neither the flag nor the configuration sets a threshold.
const defaultFailOn = "high"

type runOptions struct {
	dryRun      bool
	output      string
	outputFile  string
	payloadFile string
	failOn      string
	only        []string
	skip        []string
	root        string
	timeout     time.Duration
	strict      bool
	configPath  string
	verbose     bool
	upload      uploadFlags
}

func newRunCommand(streams Streams) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Audit this host and print the report",
		Long: `Audit this host (or an offline root with --root) and print a report.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage or
configuration error; 3 upload failed and the payload was spooled; 4 checks errored and
--strict was given (4 takes precedence over 1).

With an upload token the redacted results are sent to the API (HTTPS only) and the report
URL and score are printed. The token comes from --token, --token-file, $SERVER_AUDIT_TOKEN,
token_file / token in the configuration, or /etc/server-audit/token when it exists, in that
order; without any, nothing is sent. --token is visible to every
user in the process list: prefer a token file (mode 0600, e.g. /etc/server-audit/token).
When the upload fails the payload is spooled in <state-dir>/spool and sent first by the
next run; 'server-audit spool list|flush' inspects and sends the spool.

--dry-run guarantees that nothing is sent and nothing is written outside the files you name
(no network, no spool), even with a token.
--payload-file writes the exact redacted payload an upload would send, for inspection.`,
		Example: `  server-audit run --dry-run
  server-audit run --dry-run --output sarif --output-file audit.sarif --fail-on medium
  server-audit run --root /mnt/image --only system --output json
  server-audit run --token-file /etc/server-audit/token
  SERVER_AUDIT_TOKEN=sat_... server-audit run --endpoint https://audit.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), streams, opts, cmd.Flags().Changed("fail-on"), cmd.Flags().Changed("config"))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.dryRun, "dry-run", false, "never touch the network or the spool")
	f.StringVarP(&opts.output, "output", "o", "table", "report format: "+strings.Join(format.Names(), ", "))
	f.StringVar(&opts.outputFile, "output-file", "", "write the report to this file (mode 0600) instead of stdout")
	f.StringVar(&opts.payloadFile, "payload-file", "", "write the redacted upload payload (JSON) to this file")
	f.StringVar(&opts.failOn, "fail-on", defaultFailOn, "exit 1 when a finding at or above this severity exists: "+strings.Join(failOnLevels, ", "))
	f.StringSliceVar(&opts.only, "only", nil, "run only these check IDs or families (comma-separated)")
	f.StringSliceVar(&opts.skip, "skip", nil, "skip these check IDs or families (comma-separated)")
	f.StringVar(&opts.root, "root", "/", "audit an offline root directory (mounted image, --root /host in a container)")
	f.DurationVar(&opts.timeout, "timeout", DefaultTimeout, "deadline for the whole run; checks still running are reported as errors")
	f.BoolVar(&opts.strict, "strict", false, "exit 4 when any check errored")
	f.StringVar(&opts.configPath, "config", config.DefaultPath, "configuration file (fail_on, skip, suppress, endpoint, token_file, ca_file)")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "log each check and each upload attempt to stderr (never the token)")
	opts.upload.bind(f)
	completeChecks := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return checkCompletions(), cobra.ShellCompDirectiveNoFileComp
	}
	_ = cmd.RegisterFlagCompletionFunc("only", completeChecks)
	_ = cmd.RegisterFlagCompletionFunc("skip", completeChecks)
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return format.Names(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("fail-on", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return failOnLevels, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("root")
	return cmd
}

func runAudit(ctx context.Context, streams Streams, opts *runOptions, failOnSet, configSet bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	logger := newLogger(streams.Err, opts.verbose)
	if !slices.Contains(format.Names(), opts.output) {
		return usageErrorf("--output %q: want one of %s", opts.output, strings.Join(format.Names(), ", "))
	}
	if opts.timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	cat, err := loadCatalog()
	if err != nil {
		return err
	}
	cfg, err := config.Load(opts.configPath, configSet)
	if err != nil {
		return usageErrorf("%v", err)
	}
	failOn := opts.failOn
	if !failOnSet && cfg.FailOn != "" {
		failOn = cfg.FailOn
	}
	if !slices.Contains(failOnLevels, failOn) {
		return usageErrorf("fail-on %q: want one of %s", failOn, strings.Join(failOnLevels, ", "))
	}
	var client *upload.Client
	if opts.dryRun {
		logger.Debug("dry run: nothing is sent and the spool is not touched")
	} else {
		client, err = opts.upload.newUploadClient(cfg, os.Getenv, logger, opts.verbose)
		if err != nil {
			return usageErrorf("%v", err)
		}
	}

	list := all.Checks()
	if _, err := scan.Expand(list, cat, cfg.Skip); err != nil {
		return usageErrorf("config %s: skip: %v", cfg.Path, err)
	}
	selected, err := scan.Select(list, cat, opts.only, append(slices.Clone(opts.skip), cfg.Skip...))
	if err != nil {
		return usageErrorf("%v", err)
	}
	suppressed, err := suppressions(cfg, list, cat, time.Now(), logger.Warn)
	if err != nil {
		return usageErrorf("%v", err)
	}

	h, err := host.New(host.Options{Root: opts.root})
	if err != nil {
		return usageErrorf("--root: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	rep, err := scan.Audit(ctx, h, opts.root, cat, selected, scan.Options{
		CheckTimeout: min(scan.DefaultCheckTimeout, opts.timeout),
		Suppressed:   suppressed,
		Logger:       logger,
	})
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}

	var payload []byte
	if opts.payloadFile != "" || client != nil {
		if payload, err = buildPayload(rep, cat, opts.upload.stateDir, client != nil); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
	}
	if opts.payloadFile != "" {
		if err := atomicfile.Write(opts.payloadFile, payload, 0o600); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
	}
	if err := writeReport(streams, rep, cat, opts); err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	status := exitFor(rep, failOn, opts.strict)
	if client != nil {
		// An upload failure takes precedence over the findings' status: a scheduled run
		// must make it visible.
		if err := deliver(context.WithoutCancel(ctx), streams.Err, client, opts.upload.stateDir, opts.upload.uploadTimeout,
			cat, &upload.Item{AuditID: rep.AuditID, Payload: payload}, scoreText(rep), logger); err != nil {
			return err
		}
	}
	return status
}

// exitFor maps a report to the exit status: 4 for errors under --strict, else 1 for a
// finding at or above failOn, else 0.
func exitFor(rep *report.Report, failOn string, strict bool) error {
	if strict && rep.Summary.Counts.Error > 0 {
		return exitCode(ExitCheckErrors)
	}
	if failOn == "none" {
		return nil
	}
	highest, found := rep.HighestFailure()
	if found && highest.AtLeast(catalog.Severity(failOn)) {
		return exitCode(ExitFindings)
	}
	return nil
}

// suppressions resolves the configuration's suppressions to check IDs. Lapsed ones are
// reported through warn and not applied.
func suppressions(cfg *config.Config, list []checks.Check, cat *catalog.Catalog, now time.Time, warn func(string, ...any)) (map[string]report.Suppression, error) {
	out := map[string]report.Suppression{}
	for _, s := range cfg.Suppress {
		ids, err := scan.Expand(list, cat, []string{s.Check})
		if err != nil {
			return nil, fmt.Errorf("config %s: suppress %s: %w", cfg.Path, s.Check, err)
		}
		if !s.Active(now) {
			warn("suppression lapsed; the check runs again", "check", s.Check, "until", s.Until)
			continue
		}
		for id := range ids {
			out[id] = report.Suppression{Reason: s.Reason, Until: s.Until}
		}
	}
	return out, nil
}

func writeReport(streams Streams, rep *report.Report, cat *catalog.Catalog, opts *runOptions) error {
	color := opts.output == "table" && opts.outputFile == "" && isTerminal(streams.Out) && os.Getenv("NO_COLOR") == ""
	var buf bytes.Buffer
	if err := format.Write(&buf, opts.output, rep, format.Options{Color: color, Catalog: cat}); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if opts.outputFile == "" {
		_, err := streams.Out.Write(buf.Bytes())
		return err
	}
	if err := atomicfile.Write(opts.outputFile, buf.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(streams.Err, "server-audit: %s report written to %s (score %s)\n", opts.output, opts.outputFile, scoreText(rep))
	return nil
}

func scoreText(rep *report.Report) string {
	if !rep.Summary.Scored {
		return "n/a"
	}
	return fmt.Sprintf("%d/100, grade %s", rep.Summary.Score, rep.Summary.Grade)
}

// buildPayload returns the exact bytes an upload sends. The object key is created under
// stateDir when create is set (an upload), only read otherwise.
func buildPayload(rep *report.Report, cat *catalog.Catalog, stateDir string, create bool) ([]byte, error) {
	var key []byte
	var err error
	if create {
		key, err = ensureObjectKey(stateDir)
	} else {
		key, err = readObjectKey(stateDir)
	}
	if err != nil {
		return nil, err
	}
	payload, err := rep.Payload(cat, report.PayloadOptions{ObjectKey: key})
	if err != nil {
		return nil, err
	}
	return payload.Marshal()
}

// readObjectKey returns the per-host object key, or nil when none exists yet.
func readObjectKey(stateDir string) ([]byte, error) {
	key, err := os.ReadFile(filepath.Join(stateDir, objectKeyName))
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read object key: %w", err)
	}
	return key, nil
}

func isatty(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
