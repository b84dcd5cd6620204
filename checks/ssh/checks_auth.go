package ssh

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// unexpected reports a value sshd -T should never print.
func unexpected(key, value string) checks.Result {
	return checks.Error(report.ReasonParseError, "unexpected %s value %q in the effective configuration", key, value)
}

// permitRootLogin: root should not log in directly; administrators log in as themselves and
// escalate, which leaves an audit trail and keeps the best-known account name off the table.
func permitRootLogin(_ *state, c *Config) checks.Result {
	v := c.Get("permitrootlogin")
	fact := v
	if v == "without-password" {
		// sshd -T prints the legacy alias of prohibit-password.
		fact = "prohibit-password"
	}
	var res checks.Result
	switch v {
	case "no":
		res = checks.Pass("root cannot log in over SSH (PermitRootLogin no)")
	case "forced-commands-only":
		res = checks.Pass("root can log in only with keys restricted to a forced command (PermitRootLogin forced-commands-only)")
	case "without-password", "prohibit-password":
		res = checks.Fail("root can log in over SSH with a key (PermitRootLogin prohibit-password)").
			WithSeverity(catalog.SeverityLow).
			Detail("this is OpenSSH's default; passwords are refused for root, but a stolen root key gives a direct root shell")
	case "yes":
		res = checks.Fail("root can log in over SSH, with a password if password authentication is on (PermitRootLogin yes)")
	default:
		return unexpected("permitrootlogin", v)
	}
	return res.Enum("permit_root_login", fact)
}

// passwordState is how a password could be typed at the SSH prompt.
type passwordState struct {
	password, kbdInteractive, pam bool
}

func passwords(c *Config) passwordState {
	return passwordState{
		password:       c.Get("passwordauthentication") == "yes",
		kbdInteractive: c.Get("kbdinteractiveauthentication") == "yes" || c.Get("challengeresponseauthentication") == "yes",
		pam:            c.Get("usepam") == "yes",
	}
}

// viaPAM: keyboard-interactive authentication backed by PAM prompts for the password.
func (p passwordState) viaPAM() bool { return p.kbdInteractive && p.pam }

// any: some method accepts a typed password.
func (p passwordState) any() bool { return p.password || p.viaPAM() }

// passwordAuthentication: with passwords accepted, every account is one guessed or reused
// password away from a shell; keys (or certificates) cannot be brute-forced.
func passwordAuthentication(_ *state, c *Config) checks.Result {
	p := passwords(c)
	var res checks.Result
	switch {
	case p.password && p.viaPAM():
		res = checks.Fail("password authentication is on, both directly and through PAM keyboard-interactive prompts")
	case p.password:
		res = checks.Fail("password authentication is on (PasswordAuthentication yes)")
	case p.viaPAM():
		res = checks.Fail("passwords are accepted through PAM keyboard-interactive prompts (KbdInteractiveAuthentication yes with UsePAM yes)").
			Detail("PasswordAuthentication no does not stop PAM from asking for the account password in a keyboard-interactive exchange")
	default:
		res = checks.Pass("sshd accepts no passwords (PasswordAuthentication no, no PAM keyboard-interactive prompt)")
		if p.kbdInteractive {
			res = res.Detail("keyboard-interactive authentication is on, but without PAM sshd has no password prompt behind it")
		}
	}
	return res.Bool("password_authentication", p.password).
		Bool("kbd_interactive_authentication", p.kbdInteractive).
		Bool("use_pam", p.pam)
}

// permitEmptyPasswords: an account with an empty password would log in with nothing.
func permitEmptyPasswords(_ *state, c *Config) checks.Result {
	on := c.Get("permitemptypasswords") == "yes"
	p := passwords(c)
	var res checks.Result
	switch {
	case !on:
		res = checks.Pass("accounts with an empty password cannot log in (PermitEmptyPasswords no)")
	case p.any():
		res = checks.Fail("accounts with an empty password can log in over SSH (PermitEmptyPasswords yes with password authentication on)")
	default:
		res = checks.Fail("PermitEmptyPasswords yes is set, but no password method is enabled, so it has no effect today").
			WithSeverity(catalog.SeverityLow)
	}
	return res.Bool("permit_empty_passwords", on).Bool("password_login", p.any())
}

// hostbasedAuthentication: host-based trust lets anyone with root on a trusted client (or
// its host key) log in as any matching user, without a key or password of their own.
func hostbasedAuthentication(_ *state, c *Config) checks.Result {
	hb := c.Get("hostbasedauthentication") == "yes"
	ir := c.Get("ignorerhosts")
	var res checks.Result
	switch {
	case hb:
		res = checks.Fail("host-based authentication is on: logins are trusted on the client host's word (HostbasedAuthentication yes)")
		if ir != "yes" {
			res = res.Detail("IgnoreRhosts %s also lets users' own .rhosts/.shosts files extend that trust", ir)
		}
	case ir != "yes":
		res = checks.Fail("IgnoreRhosts %s: users' .rhosts/.shosts files would be honoured if host-based authentication were turned on", ir).
			WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Pass("host-based authentication is off and .rhosts/.shosts files are ignored")
	}
	switch ir {
	case "yes", "no", "shosts-only":
	default:
		return unexpected("ignorerhosts", ir)
	}
	return res.Bool("hostbased_authentication", hb).Enum("ignore_rhosts", ir)
}

// intValue reads an integer setting or reports it as unexpected.
func intValue(c *Config, key string) (int64, *checks.Result) {
	n, ok := c.Int(key)
	if !ok {
		res := unexpected(key, c.Get(key))
		return 0, &res
	}
	return n, nil
}

// maxAuthTries: more attempts per connection make online guessing cheaper.
func maxAuthTries(_ *state, c *Config) checks.Result {
	n, bad := intValue(c, "maxauthtries")
	if bad != nil {
		return *bad
	}
	var res checks.Result
	switch {
	case n <= 4:
		res = checks.Pass("MaxAuthTries %d: at most %d authentication attempts per connection", n, n)
	case n <= 6:
		res = checks.Fail("MaxAuthTries %d allows more than 4 authentication attempts per connection", n).WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Fail("MaxAuthTries %d allows many authentication attempts per connection", n)
	}
	return res.Int("max_auth_tries", n)
}

// regresshionAffected reports whether a release is in the upstream range of CVE-2024-6387
// (8.5p1 to 9.7p1); distributions may have patched it.
func regresshionAffected(v Version) bool { return v.AtLeast(8, 5) && !v.AtLeast(9, 8) }

// loginGraceTime: unauthenticated connections hold a MaxStartups slot until they log in or
// time out.
func loginGraceTime(s *state, c *Config) checks.Result {
	n, bad := intValue(c, "logingracetime")
	if bad != nil {
		return *bad
	}
	var res checks.Result
	switch {
	case n == 0:
		res = checks.Fail("LoginGraceTime 0: no time limit for logging in (the documented mitigation for CVE-2024-6387, regreSSHion)").
			WithSeverity(catalog.SeverityInfo).
			Detail("0 removes the signal handler race behind regreSSHion, but unauthenticated connections can then hold every MaxStartups slot; set 30-60 once OpenSSH is patched")
		if regresshionAffected(s.version) {
			res = res.Detail("OpenSSH %s is in the upstream affected range 8.5p1-9.7p1 unless the distribution backported the fix", s.version.Short())
		}
	case n <= 60:
		res = checks.Pass("LoginGraceTime %d: unauthenticated connections are dropped after %d seconds", n, n)
	default:
		res = checks.Fail("LoginGraceTime %d: unauthenticated connections may stay open for more than a minute", n)
	}
	return res.Int("login_grace_time", n).Bool("regresshion_mitigation", n == 0)
}

// maxStartups: throttling unauthenticated connections blunts connection-flooding and
// brute-force bursts; MaxSessions bounds the sessions multiplexed over one connection.
func maxStartups(_ *state, c *Config) checks.Result {
	spec := c.Get("maxstartups")
	parts := strings.Split(spec, ":")
	var n [3]int64
	if len(parts) != 3 {
		return unexpected("maxstartups", spec)
	}
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return unexpected("maxstartups", spec)
		}
		n[i] = v
	}
	sessions, bad := intValue(c, "maxsessions")
	if bad != nil {
		return *bad
	}
	var problems []string
	if n[0] > 10 {
		problems = append(problems, fmt.Sprintf("MaxStartups starts refusing connections only after %d unauthenticated ones (want 10 or fewer)", n[0]))
	}
	if n[2] > 60 {
		problems = append(problems, fmt.Sprintf("MaxStartups allows up to %d unauthenticated connections (want 60 or fewer)", n[2]))
	}
	if sessions > 10 {
		problems = append(problems, fmt.Sprintf("MaxSessions %d allows more than 10 sessions per connection", sessions))
	}
	var res checks.Result
	if len(problems) == 0 {
		res = checks.Pass("MaxStartups %s and MaxSessions %d limit unauthenticated connections and sessions", spec, sessions)
	} else {
		res = checks.Fail("%s", problems[0])
		for _, p := range problems[1:] {
			res = res.Detail("%s", p)
		}
	}
	return res.Int("max_startups_begin", n[0]).Int("max_startups_rate", n[1]).Int("max_startups_full", n[2]).
		Int("max_sessions", sessions)
}

// idleTimeout: sshd should probe idle clients and close sessions whose client vanished.
func idleTimeout(_ *state, c *Config) checks.Result {
	interval, bad := intValue(c, "clientaliveinterval")
	if bad != nil {
		return *bad
	}
	count, bad := intValue(c, "clientalivecountmax")
	if bad != nil {
		return *bad
	}
	var res checks.Result
	switch {
	case interval == 0:
		res = checks.Fail("ClientAliveInterval 0: sshd never checks whether idle clients are still there")
	case count == 0:
		res = checks.Fail("ClientAliveCountMax 0: sshd probes idle clients but never disconnects unresponsive ones")
	default:
		res = checks.Pass("sshd disconnects unresponsive clients after about %d seconds (ClientAliveInterval %d, ClientAliveCountMax %d)", interval*count, interval, count)
		if interval > 300 || count > 3 {
			res = res.Detail("Lynis prefers ClientAliveInterval 300 or less and ClientAliveCountMax 2 or less")
		}
	}
	return res.Int("client_alive_interval", interval).Int("client_alive_count_max", count)
}
