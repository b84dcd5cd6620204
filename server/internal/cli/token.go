package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecodehq/server-audit/server/internal/store"
)

func newTokenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke agent tokens",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTokenCreateCmd(e), newTokenListCmd(e), newTokenRevokeCmd(e))
	return cmd
}

// openStore connects for the token commands and checks that the schema is migrated.
func (e *env) openStore(ctx context.Context) (*store.Store, func(), error) {
	if err := e.common.CheckDatabase(); err != nil {
		return nil, nil, usageError{err}
	}
	pool, err := store.OpenPool(ctx, e.common.DatabaseURL, store.PoolOptions{MaxConns: 2})
	if err != nil {
		return nil, nil, err
	}
	if err := store.CheckSchema(ctx, pool); err != nil {
		pool.Close()
		if errors.Is(err, store.ErrSchemaNotCurrent) {
			return nil, nil, fmt.Errorf("%w (run `server-audit-api migrate` first)", err)
		}
		return nil, nil, err
	}
	return store.New(pool), func() { pool.Close() }, nil
}

type tokenCreateOptions struct {
	email string
	ip    string
}

func newTokenCreateCmd(e *env) *cobra.Command {
	var o tokenCreateOptions
	cmd := &cobra.Command{
		Use:   "create --email EMAIL [--ip IP]",
		Short: "Create a token and print it on stdout (shown once, stored only as a SHA-256)",
		Long: `Create a token for the account of --email (created when new) and print the token
alone on stdout. It is shown once: the database keeps only its SHA-256.

With --ip the token accepts uploads from that address only. Without it, the token binds
to the address of its first accepted upload.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ip netip.Addr
			if o.ip != "" {
				var err error
				if ip, err = netip.ParseAddr(o.ip); err != nil || ip.Zone() != "" {
					return usageError{fmt.Errorf("--ip: %q is not an IP address", o.ip)}
				}
			}
			if _, err := store.NormalizeEmail(o.email); err != nil {
				return usageError{fmt.Errorf("--email: %w", err)}
			}
			st, closeFn, err := e.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			secret, tok, err := st.CreateToken(cmd.Context(), o.email, ip)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(e.stdout, secret); err != nil {
				return fmt.Errorf("write token: %w", err)
			}
			binding := "binds to the address of its first upload"
			if tok.BoundIP.IsValid() {
				binding = "bound to " + tok.BoundIP.String()
			}
			fmt.Fprintf(e.stderr, "created token %d for %s (%s); it is shown only once\n", tok.ID, tok.Email, binding)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.email, "email", "", "account e-mail address (required)")
	cmd.Flags().StringVar(&o.ip, "ip", "", "bind the token to this server address")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func newTokenListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, closeFn, err := e.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			tokens, err := st.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEMAIL\tBOUND IP\tCREATED\tLAST USED\tREVOKED")
			for _, t := range tokens {
				bound := "-"
				if t.BoundIP.IsValid() {
					bound = t.BoundIP.String()
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Email, bound, stamp(&t.CreatedAt), stamp(t.LastUsedAt), stamp(t.RevokedAt))
			}
			return tw.Flush()
		},
	}
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newTokenRevokeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token; its uploads and report reads are refused from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageError{fmt.Errorf("token id %q is not a positive integer (see `token list`)", args[0])}
			}
			st, closeFn, err := e.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			if err := st.RevokeToken(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "token %d revoked\n", id)
			return nil
		},
	}
}
