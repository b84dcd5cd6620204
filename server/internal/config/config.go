// Package config holds server-audit-api's configuration. Every setting is a command-line
// flag with an environment variable behind it; a flag given on the command line wins over
// the environment, which wins over the default.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/securecodehq/server-audit/server/internal/api"
	"github.com/securecodehq/server-audit/server/internal/ingest"
)

// envAnnotation is the pflag annotation naming a flag's environment variable.
const envAnnotation = "env"

// Common is the configuration every command shares.
type Common struct {
	// DatabaseURL is a PostgreSQL URL or keyword/value string (pgx syntax).
	DatabaseURL string
	// LogLevel is debug, info, warn or error.
	LogLevel string
}

// Serve is the configuration of `serve`.
type Serve struct {
	Common
	Listen          string
	TLSCert         string
	TLSKey          string
	TrustedProxies  []string
	PublicURL       string
	MaxBody         int64
	MaxDecompressed int64
	TokenRate       float64
	TokenBurst      int
	IPRate          float64
	IPBurst         int
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration
	Workers         int
	DBMaxConns      int32
}

// Defaults of Serve.
const (
	DefaultListen          = ":8080"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultWorkers         = 4
	DefaultDBMaxConns      = 20
)

// BindCommon registers the shared flags on fs.
func BindCommon(fs *pflag.FlagSet, c *Common) {
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL URL, e.g. postgres://user@127.0.0.1:5432/server_audit")
	annotate(fs, "database-url", "DATABASE_URL")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	annotate(fs, "log-level", "SERVER_AUDIT_API_LOG_LEVEL")
}

// BindServe registers the flags of `serve` on fs.
func BindServe(fs *pflag.FlagSet, c *Serve) {
	fs.StringVar(&c.Listen, "listen", DefaultListen, "address to listen on")
	annotate(fs, "listen", "SERVER_AUDIT_API_LISTEN")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS directly, TLS 1.2 minimum")
	annotate(fs, "tls-cert", "SERVER_AUDIT_API_TLS_CERT")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key file of --tls-cert")
	annotate(fs, "tls-key", "SERVER_AUDIT_API_TLS_KEY")
	fs.StringSliceVar(&c.TrustedProxies, "trusted-proxies", nil,
		"comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-For is honoured")
	annotate(fs, "trusted-proxies", "SERVER_AUDIT_API_TRUSTED_PROXIES")
	fs.StringVar(&c.PublicURL, "public-url", "", "external base URL for report links, e.g. https://audit.example.com")
	annotate(fs, "public-url", "SERVER_AUDIT_API_PUBLIC_URL")
	fs.Int64Var(&c.MaxBody, "max-body-bytes", ingest.DefaultMaxBody, "largest request body accepted, as sent (compressed)")
	annotate(fs, "max-body-bytes", "SERVER_AUDIT_API_MAX_BODY_BYTES")
	fs.Int64Var(&c.MaxDecompressed, "max-decompressed-bytes", ingest.DefaultMaxDecompressed, "largest body after gzip decompression")
	annotate(fs, "max-decompressed-bytes", "SERVER_AUDIT_API_MAX_DECOMPRESSED_BYTES")
	fs.Float64Var(&c.TokenRate, "token-rate", api.DefaultTokenRatePerSecond, "requests per second per token (0 disables the limit)")
	annotate(fs, "token-rate", "SERVER_AUDIT_API_TOKEN_RATE")
	fs.IntVar(&c.TokenBurst, "token-burst", api.DefaultTokenBurst, "burst size of the per-token limit")
	annotate(fs, "token-burst", "SERVER_AUDIT_API_TOKEN_BURST")
	fs.Float64Var(&c.IPRate, "ip-rate", api.DefaultIPRatePerSecond, "requests per second per client address (0 disables the limit)")
	annotate(fs, "ip-rate", "SERVER_AUDIT_API_IP_RATE")
	fs.IntVar(&c.IPBurst, "ip-burst", api.DefaultIPBurst, "burst size of the per-address limit")
	annotate(fs, "ip-burst", "SERVER_AUDIT_API_IP_BURST")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", api.DefaultRequestTimeout, "deadline of each request")
	annotate(fs, "request-timeout", "SERVER_AUDIT_API_REQUEST_TIMEOUT")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "how long shutdown waits for in-flight requests and jobs")
	annotate(fs, "shutdown-timeout", "SERVER_AUDIT_API_SHUTDOWN_TIMEOUT")
	fs.IntVar(&c.Workers, "workers", DefaultWorkers, "concurrent report jobs in this process (0: insert jobs only, another process works them)")
	annotate(fs, "workers", "SERVER_AUDIT_API_WORKERS")
	fs.Int32Var(&c.DBMaxConns, "db-max-conns", DefaultDBMaxConns, "size of the database connection pool")
	annotate(fs, "db-max-conns", "SERVER_AUDIT_API_DB_MAX_CONNS")
}

func annotate(fs *pflag.FlagSet, name, env string) {
	f := fs.Lookup(name)
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[envAnnotation] = []string{env}
	f.Usage += " (env " + env + ")"
}

// ApplyEnv sets every flag of fs that was not given on the command line from its
// environment variable, when that is set and non-empty. A value that does not parse is an
// error naming the variable.
func ApplyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		names := f.Annotations[envAnnotation]
		if f.Changed || len(names) == 0 {
			return
		}
		v := getenv(names[0])
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			// Never echo the value: DATABASE_URL may hold a password.
			errs = append(errs, fmt.Errorf("environment variable %s: invalid value for --%s", names[0], f.Name))
		}
	})
	return errors.Join(errs...)
}

// ErrNoDatabase is returned when no database URL is configured.
var ErrNoDatabase = errors.New("no database configured: set DATABASE_URL or pass --database-url, e.g. DATABASE_URL=postgres://user@127.0.0.1:5432/server_audit")

// CheckDatabase returns ErrNoDatabase when c has no database URL.
func (c Common) CheckDatabase() error {
	if strings.TrimSpace(c.DatabaseURL) == "" {
		return ErrNoDatabase
	}
	return nil
}

// Level parses LogLevel.
func (c Common) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level: %q is not debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// Validate checks the serve configuration and returns the parsed trusted proxies and public
// URL.
func (c Serve) Validate() (proxies []netip.Prefix, public *url.URL, err error) {
	if err := c.CheckDatabase(); err != nil {
		return nil, nil, err
	}
	if _, err := c.Level(); err != nil {
		return nil, nil, err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, nil, errors.New("--tls-cert and --tls-key go together")
	}
	for _, s := range c.TrustedProxies {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
		proxies = append(proxies, p)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, nil, fmt.Errorf("--public-url: %q is not an absolute http(s) URL without query, fragment or credentials", c.PublicURL)
		}
		public = u
	}
	switch {
	case c.MaxBody <= 0 || c.MaxDecompressed <= 0:
		return nil, nil, errors.New("--max-body-bytes and --max-decompressed-bytes must be positive")
	case c.TokenRate < 0 || c.IPRate < 0 || c.TokenBurst < 1 || c.IPBurst < 1:
		return nil, nil, errors.New("rates must be at least 0 and bursts at least 1")
	case c.RequestTimeout <= 0 || c.ShutdownTimeout <= 0:
		return nil, nil, errors.New("--request-timeout and --shutdown-timeout must be positive")
	case c.Workers < 0:
		return nil, nil, errors.New("--workers must be at least 0")
	case c.DBMaxConns < 2:
		return nil, nil, errors.New("--db-max-conns must be at least 2")
	}
	return proxies, public, nil
}

// ParsePrefix parses a CIDR ("10.0.0.0/8") or a single address ("10.0.0.1", taken as /32
// or /128). IPv4-mapped IPv6 forms become IPv4.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", s)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
