// Package ssh holds the SSH server checks, evaluated on sshd's effective configuration.
//
// On a live host with sshd installed the configuration is what `sshd -T -C <probe>` prints:
// sshd's own computation of every include, default and Match block for a probe connection
// (defaultProbe: a non-existent user from a documentation address to the listening port).
// When sshd -T cannot run (an offline root, the agent not root, sshd missing its privilege
// separation directory, a configuration sshd rejects) a Go parser with sshd's semantics and
// the defaults of the installed OpenSSH release takes its place; every result says which
// source it used (fact config_source). Host key facts come from the public key files only;
// private keys are stat'ed, never opened.
//
// Facts are states, numbers, versions and declared algorithm names; user and group names
// from AllowUsers and friends, paths, addresses and file contents stay in the local details.
package ssh

import (
	"context"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Checks returns every check of the family, in report order.
func Checks() []checks.Check {
	f := &family{memo: checks.NewMemo(collect)}
	return []checks.Check{
		configCheck{f, "ssh.permit-root-login", permitRootLogin},
		configCheck{f, "ssh.password-authentication", passwordAuthentication},
		configCheck{f, "ssh.permit-empty-passwords", permitEmptyPasswords},
		configCheck{f, "ssh.hostbased-authentication", hostbasedAuthentication},
		configCheck{f, "ssh.max-auth-tries", maxAuthTries},
		configCheck{f, "ssh.login-grace-time", loginGraceTime},
		configCheck{f, "ssh.max-startups", maxStartups},
		configCheck{f, "ssh.idle-timeout", idleTimeout},
		configCheck{f, "ssh.forwarding", forwarding},
		configCheck{f, "ssh.permit-user-environment", permitUserEnvironment},
		configCheck{f, "ssh.log-level", logLevel},
		configCheck{f, "ssh.access-restriction", accessRestriction},
		configCheck{f, "ssh.ciphers", ciphers},
		configCheck{f, "ssh.macs", macs},
		configCheck{f, "ssh.kex", kex},
		configCheck{f, "ssh.host-key-algorithms", hostKeyAlgorithms},
		configCheck{f, "ssh.terrapin", terrapin},
		stateCheck{f, "ssh.host-keys", hostKeys},
		stateCheck{f, "ssh.config-permissions", configPermissions},
		stateCheck{f, "ssh.host-key-permissions", hostKeyPermissions},
		vulnerableBuild{f},
	}
}

// family is what the checks share: the per-host state.
type family struct {
	memo *checks.Memo[*state]
}

// configCheck is a check judging the effective configuration.
type configCheck struct {
	f    *family
	id   string
	eval func(s *state, c *Config) checks.Result
}

func (c configCheck) ID() string { return c.id }

func (c configCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	s, err := c.f.memo.Get(ctx, h)
	if err != nil {
		return checks.Result{}, err
	}
	cfg, res := s.configResult()
	if res != nil {
		return *res, nil
	}
	r := c.eval(s, cfg).Enum("config_source", string(cfg.Source)).Detail("%s", cfg.describe())
	for _, n := range s.notes {
		r = r.Detail("%s", n)
	}
	return r, nil
}

// stateCheck is a check reading files next to the configuration (keys, permissions); it
// uses the configuration when there is one and works without it otherwise.
type stateCheck struct {
	f    *family
	id   string
	eval func(h host.Host, s *state) checks.Result
}

func (c stateCheck) ID() string { return c.id }

func (c stateCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	s, err := c.f.memo.Get(ctx, h)
	if err != nil {
		return checks.Result{}, err
	}
	if !s.installed {
		return checks.Skip(report.ReasonNotInstalled, "sshd is not installed"), nil
	}
	res := c.eval(h, s)
	if s.cfg != nil && res.Status != report.StatusSkip {
		res = res.Enum("config_source", string(s.cfg.Source)).Detail("%s, for the HostKey and Include paths", s.cfg.describe())
	}
	return res, nil
}
