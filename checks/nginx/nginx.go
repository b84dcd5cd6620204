// Package nginx holds the Nginx checks, evaluated on the effective configuration.
//
// The configuration is a tree of directives with every include expanded, built by a Go
// port of nginx's tokenizer from one of two sources (fact config_source): the files that
// `nginx -T` prints (nginx's own reading, used when nginx is running on a live host), or the
// files themselves, read with nginx's include rules (globs, paths relative to the main
// file's directory) on offline roots, when nginx is stopped, and when nginx -T fails.
// Integration tests hold both sources to the same tree on real nginx configurations.
//
// Checks judge each server and location with nginx's inheritance rules: most directives
// are inherited from the enclosing level unless redefined; array-like directives
// (add_header, ssl_certificate …) are inherited only by a level that defines none of its
// own; defaults that changed between releases (ssl_protocols) follow the installed version.
//
// Facts are counts, booleans, versions and declared names (protocols, cipher categories,
// header names); server names, paths, addresses, header values and certificate contents
// stay in the local details. Private keys are stat'ed, never opened; certificates are
// public and are parsed for their expiry only.
package nginx

import (
	"context"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Checks returns every check of the family, in report order.
func Checks() []checks.Check { return checksAt(time.Now) }

// checksAt returns the checks with a clock for certificate expiry (fixtures pin it).
func checksAt(now func() time.Time) []checks.Check {
	f := &family{memo: checks.NewMemo(collect), now: now}
	return []checks.Check{
		check{f, "nginx.worker-user", workerUser},
		check{f, "nginx.server-tokens", serverTokens},
		check{f, "nginx.tls-protocols", tlsProtocols},
		check{f, "nginx.tls-ciphers", tlsCiphers},
		check{f, "nginx.tls-key-permissions", keyPermissions},
		check{f, "nginx.https-redirect", httpsRedirect},
		check{f, "nginx.hsts", hsts},
		check{f, "nginx.security-headers", securityHeaders},
		check{f, "nginx.autoindex", autoindex},
		check{f, "nginx.hidden-files", hiddenFiles},
		check{f, "nginx.alias-traversal", aliasTraversal},
		check{f, "nginx.debug-logging", debugLogging},
		check{f, "nginx.access-log", accessLog},
		check{f, "nginx.session-tickets", sessionTickets},
		check{f, "nginx.certificate-expiry", certificateExpiry},
		check{f, "nginx.config-permissions", configPermissions},
		check{f, "nginx.default-site", defaultSite},
	}
}

// family is what the checks share: the per-host state and the clock.
type family struct {
	memo *checks.Memo[*state]
	now  func() time.Time
}

// env is what a check function sees.
type env struct {
	h   host.Host
	s   *state
	cfg *Config
	now time.Time
}

// check is one check of the family: a function of the shared state.
type check struct {
	f    *family
	id   string
	eval func(e *env) checks.Result
}

func (c check) ID() string { return c.id }

func (c check) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	s, err := c.f.memo.Get(ctx, h)
	if err != nil {
		return checks.Result{}, err
	}
	return evaluate(h, s, c.eval, c.f.now()), nil
}

// evaluate runs one check function on a collected state.
func evaluate(h host.Host, s *state, eval func(*env) checks.Result, now time.Time) checks.Result {
	if !s.installed {
		return checks.Skip(report.ReasonNotInstalled, "nginx is not installed")
	}
	if s.cfg == nil {
		res := checks.FromError("nginx configuration", s.cfgErr)
		for _, n := range s.notes {
			res = res.Detail("%s", n)
		}
		return res
	}
	res := eval(&env{h: h, s: s, cfg: s.cfg, now: now})
	res = res.Enum("config_source", string(s.cfg.Source)).Detail("%s", s.cfg.describe())
	for _, n := range s.notes {
		res = res.Detail("%s", n)
	}
	return res
}
