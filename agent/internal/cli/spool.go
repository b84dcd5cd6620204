package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/securecodehq/server-audit/agent/internal/config"
	"github.com/securecodehq/server-audit/agent/internal/upload"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/version"
)

// tokenEnv is the environment variable holding the upload token.
const tokenEnv = "SERVER_AUDIT_TOKEN"

// DefaultTokenFile is the conventional token file (mode 0600, owned by root). A run reads it
// when no other token source is given and it exists; scheduled runs rely on it.
const DefaultTokenFile = "/etc/server-audit/token"

// uploadFlags are the flags shared by `run` and `spool flush`.
type uploadFlags struct {
	token         string
	tokenFile     string
	endpoint      string
	caFile        string
	stateDir      string
	uploadTimeout time.Duration
}

func (u *uploadFlags) bind(f *pflag.FlagSet) {
	f.StringVar(&u.token, "token", "", "upload token; visible to other users in the process list — prefer --token-file or "+tokenEnv)
	f.StringVar(&u.tokenFile, "token-file", "", "file holding the upload token (mode 0600), e.g. "+DefaultTokenFile)
	f.StringVar(&u.endpoint, "endpoint", "", "API base URL (default "+upload.DefaultEndpoint+"); https://, or http:// to a loopback address only")
	f.StringVar(&u.caFile, "ca-file", "", "PEM file of CA certificates trusted in addition to the system's")
	f.StringVar(&u.stateDir, "state-dir", upload.DefaultStateDir, "state directory: the spool of undelivered audits and the object key")
	f.DurationVar(&u.uploadTimeout, "upload-timeout", upload.DefaultDeadline, "deadline of the whole upload, retries and spooled audits included")
}

// tokenSource says where the token came from, for messages (never the token itself).
type tokenSource string

// resolveToken finds the token: --token, then --token-file, then $SERVER_AUDIT_TOKEN, then
// token_file and token in the configuration, then DefaultTokenFile when it exists. An empty
// token means no upload. A token file
// or configuration that other users may read earns a warning.
func (u *uploadFlags) resolveToken(cfg *config.Config, getenv func(string) string, log *slog.Logger) (string, tokenSource, error) {
	switch {
	case u.token != "":
		return strings.TrimSpace(u.token), "--token", nil
	case u.tokenFile != "":
		t, err := readTokenFile(u.tokenFile, log)
		return t, tokenSource("--token-file " + u.tokenFile), err
	case getenv(tokenEnv) != "":
		return strings.TrimSpace(getenv(tokenEnv)), tokenEnv, nil
	case cfg.TokenFile != "":
		t, err := readTokenFile(cfg.TokenFile, log)
		return t, tokenSource("token_file " + cfg.TokenFile), err
	case cfg.Token != "":
		if cfg.TokenExposed() {
			log.Warn("the configuration holds an upload token and other users may read it; chmod 600 it, or move the token to a token file",
				"config", cfg.Path, "mode", fmt.Sprintf("%04o", cfg.Mode))
		}
		return strings.TrimSpace(cfg.Token), tokenSource("token in " + cfg.Path), nil
	}
	// The conventional file, when it exists (what a scheduled run relies on). A user who
	// may not read it gets a local report and a warning.
	if _, err := os.Stat(DefaultTokenFile); err == nil {
		t, err := readTokenFile(DefaultTokenFile, log)
		if errors.Is(err, fs.ErrPermission) {
			log.Warn("cannot read the token file; the results are not uploaded", "file", DefaultTokenFile)
			return "", "", nil
		}
		return t, tokenSource(DefaultTokenFile), err
	}
	return "", "", nil
}

// readTokenFile reads a token file: the token, surrounding white space ignored. A file that
// other users may read is used with a warning (the token can only upload audits and read
// their reports, and refusing would silently stop scheduled uploads).
func readTokenFile(path string, log *slog.Logger) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("read token file %s: not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		log.Warn("the token file may be read by other users; chmod 600 it", "file", path, "mode", fmt.Sprintf("%04o", st.Mode().Perm()))
	}
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("read token file %s: %w", path, err)
	}
	t := strings.TrimSpace(string(data))
	if t == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return t, nil
}

// newUploadClient resolves the token, endpoint and CA file and builds the client. It
// returns nil (and no error) when no token is configured. Errors are configuration errors
// and never contain the token.
func (u *uploadFlags) newUploadClient(cfg *config.Config, getenv func(string) string, log *slog.Logger, verbose bool) (*upload.Client, error) {
	token, source, err := u.resolveToken(cfg, getenv, log)
	if err != nil {
		return nil, err
	}
	if token == "" {
		if u.endpoint != "" || u.caFile != "" {
			return nil, fmt.Errorf("--endpoint and --ca-file need an upload token: --token-file FILE, %s or --token", tokenEnv)
		}
		return nil, nil
	}
	if err := upload.CheckToken(token); err != nil {
		return nil, fmt.Errorf("token from %s: %w", source, err)
	}
	if u.uploadTimeout <= 0 {
		return nil, errors.New("--upload-timeout must be positive")
	}
	endpoint := u.endpoint
	if endpoint == "" {
		endpoint = cfg.Endpoint
	}
	caFile := u.caFile
	if caFile == "" {
		caFile = cfg.CAFile
	}
	opts := upload.Options{
		Endpoint:       endpoint,
		Token:          token,
		CAFile:         caFile,
		UserAgent:      upload.DefaultUserAgent(version.Get().Version),
		AttemptTimeout: min(upload.DefaultAttemptTimeout, u.uploadTimeout),
	}
	if verbose {
		opts.Logger = log
	}
	c, err := upload.New(opts)
	if err != nil {
		return nil, err
	}
	log.Debug("uploads enabled", "endpoint", c.Endpoint(), "token_from", string(source))
	return c, nil
}

// ensureObjectKey returns the per-host object key under stateDir, creating it (32 random
// bytes, mode 0600, directory 0700) when absent.
func ensureObjectKey(stateDir string) ([]byte, error) {
	path := filepath.Join(stateDir, "object.key")
	key, err := os.ReadFile(path)
	if err == nil && len(key) > 0 {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read object key: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate object key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another run created it first: use theirs.
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create object key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write object key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write object key: %w", err)
	}
	return key, nil
}

// deliver sends the spool and current (nil: the spool only) and prints the outcome on w.
// It returns the exit status error: nil when everything was delivered.
func deliver(ctx context.Context, w io.Writer, c *upload.Client, stateDir string, timeout time.Duration,
	cat *catalog.Catalog, current *upload.Item, score string, log *slog.Logger) error {
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sp := upload.OpenSpool(upload.SpoolDir(stateDir), upload.SpoolOptions{Logger: log})
	out, err := upload.Deliver(ctx, c, sp, cat, current, log)
	for _, d := range out.Delivered {
		if !d.FromSpool {
			continue
		}
		note := ""
		if d.Accepted.Duplicate {
			note = " (the server already had it)"
		}
		fmt.Fprintf(w, "server-audit: delivered spooled audit %s%s; report: %s\n", d.Accepted.AuditID, note, d.Accepted.ReportURL)
	}
	if out.Current != nil {
		fmt.Fprintf(w, "server-audit: results sent (score %s); report: %s\n", score, out.Current.ReportURL)
	}
	if err != nil {
		return &exitError{code: ExitUploadFailed, err: fmt.Errorf("upload failed (%v) and the results could not be spooled: %w", out.Failure, err)}
	}
	if out.Failure == nil {
		return nil
	}
	f := out.Failure
	switch f.Kind {
	case upload.Unauthorized:
		msg := "the server refused the token: it is unknown, revoked, or bound to another server's address; " +
			"create a new token on the server and replace the old one"
		if f.Code == "ip_mismatch" {
			msg = "the server refused the token: it is bound to another server's address; use a token created for this server"
		}
		if current != nil {
			msg += "; this audit was not spooled"
		}
		if out.Remaining > 0 {
			msg += fmt.Sprintf("; %d earlier audit(s) stay spooled for the new token", out.Remaining)
		}
		return &exitError{code: ExitUsage, err: fmt.Errorf("%s (%v)", msg, f)}
	case upload.Rejected:
		return &exitError{code: ExitUsage, err: fmt.Errorf("the server refused the results for good, so they were not spooled: %v", f)}
	}
	where := sp.Dir()
	if out.SpooledPath != "" {
		return &exitError{code: ExitUploadFailed, err: fmt.Errorf("upload failed: %v; the results were spooled in %s (%d audit(s) waiting) and will be sent by the next run", f, where, out.Remaining)}
	}
	return &exitError{code: ExitUploadFailed, err: fmt.Errorf("upload failed: %v; %d audit(s) remain spooled in %s", f, out.Remaining, where)}
}

type spoolOptions struct {
	configPath string
	verbose    bool
	upload     uploadFlags
}

func newSpoolCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spool",
		Short: "List or send the audits whose upload failed",
		Long: `Audits whose upload failed wait in the spool (<state-dir>/spool, default
` + upload.SpoolDir(upload.DefaultStateDir) + `): one file per audit, holding exactly the
redacted payload. Each run sends them first, oldest first. The spool keeps at most ` + fmt.Sprint(upload.DefaultMaxEntries) + ` audits
for at most ` + fmt.Sprint(upload.DefaultMaxAge.Hours()/24) + ` days; older ones are dropped with a warning.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSpoolListCommand(streams), newSpoolFlushCommand(streams))
	return cmd
}

func newSpoolListCommand(streams Streams) *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the spooled audits, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			sp := upload.OpenSpool(upload.SpoolDir(stateDir), upload.SpoolOptions{})
			entries, err := sp.List()
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			if len(entries) == 0 {
				fmt.Fprintf(streams.Err, "server-audit: the spool %s is empty\n", sp.Dir())
				return nil
			}
			tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AUDIT ID\tSTARTED\tAGE\tBYTES")
			now := time.Now()
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", e.AuditID, e.Created.UTC().Format(time.RFC3339),
					now.Sub(e.Created).Round(time.Minute), e.Size)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", upload.DefaultStateDir, "state directory holding the spool")
	return cmd
}

func newSpoolFlushCommand(streams Streams) *cobra.Command {
	opts := &spoolOptions{}
	cmd := &cobra.Command{
		Use:   "flush",
		Short: "Send the spooled audits now",
		Long: `Send the spooled audits now, oldest first, with the same token, endpoint and CA
options as 'server-audit run'. Exit status 0 when the spool is empty afterwards, 3 when
audits remain, 2 on a configuration error or when the server refuses the token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := newLogger(streams.Err, opts.verbose)
			cat, err := loadCatalog()
			if err != nil {
				return err
			}
			cfg, err := config.Load(opts.configPath, cmd.Flags().Changed("config"))
			if err != nil {
				return usageErrorf("%v", err)
			}
			client, err := opts.upload.newUploadClient(cfg, os.Getenv, logger, opts.verbose)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if client == nil {
				return usageErrorf("no upload token: give --token-file FILE, %s or --token", tokenEnv)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return deliver(ctx, streams.Err, client, opts.upload.stateDir, opts.upload.uploadTimeout, cat, nil, "", logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.configPath, "config", config.DefaultPath, "configuration file (endpoint, token_file, token, ca_file)")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "log each upload attempt to stderr (never the token)")
	opts.upload.bind(f)
	return cmd
}
