package ssh

import (
	"fmt"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// forwarding: every forwarding channel turns an SSH login into a tunnel through the host
// (to internal services, back to the client's X display or agent).
func forwarding(s *state, c *Config) checks.Result {
	disable := c.Get("disableforwarding") == "yes"
	x11 := c.Get("x11forwarding") == "yes"
	tcp := c.Get("allowtcpforwarding")
	agent := c.Get("allowagentforwarding") == "yes"
	tun := c.Get("permittunnel")
	gw := c.Get("gatewayports")
	var res checks.Result
	switch {
	case disable && (x11 || agent) && !s.version.AtLeast(10, 0):
		res = checks.Fail("DisableForwarding yes, but X11 or agent forwarding is still enabled on its own keyword").
			WithSeverity(catalog.SeverityLow).
			Detail("before OpenSSH 10.0 DisableForwarding did not stop X11 and agent forwarding (CVE-2025-32728) unless the distribution backported the fix; set X11Forwarding no and AllowAgentForwarding no as well")
	case disable:
		res = checks.Pass("all forwarding is disabled (DisableForwarding yes)")
	default:
		var open []string
		sev := catalog.SeverityLow
		if x11 {
			open = append(open, "X11Forwarding yes")
			sev = catalog.SeverityMedium
		}
		if tcp != "no" {
			open = append(open, "AllowTcpForwarding "+tcp)
		}
		if agent {
			open = append(open, "AllowAgentForwarding yes")
		}
		if tun != "no" {
			open = append(open, "PermitTunnel "+tun)
		}
		if gw != "no" {
			open = append(open, "GatewayPorts "+gw)
		}
		if len(open) == 0 {
			res = checks.Pass("X11, TCP, agent and tunnel forwarding are all off")
		} else {
			res = checks.Fail("forwarding is enabled: %s", strings.Join(open, ", ")).WithSeverity(sev)
		}
	}
	return res.Bool("disable_forwarding", disable).Bool("x11_forwarding", x11).Enum("tcp_forwarding", tcp).
		Bool("agent_forwarding", agent).Enum("permit_tunnel", tun).Enum("gateway_ports", gw)
}

// permitUserEnvironment: environment variables from ~/.ssh/environment or key options can
// change how the login shell and PAM behave (LD_PRELOAD and friends).
func permitUserEnvironment(_ *state, c *Config) checks.Result {
	v := c.Get("permituserenvironment")
	var res checks.Result
	fact := v
	switch v {
	case "no":
		res = checks.Pass("users cannot set environment variables for their sessions (PermitUserEnvironment no)")
	case "yes":
		res = checks.Fail("users can set any environment variable for their sessions (PermitUserEnvironment yes)")
	default:
		fact = "pattern"
		res = checks.Fail("users can set environment variables matching a pattern list for their sessions").
			WithSeverity(catalog.SeverityLow).
			Detail("PermitUserEnvironment %s", v)
	}
	return res.Enum("permit_user_environment", fact)
}

// logLevel: INFO records logins and failures; VERBOSE adds the key fingerprint used.
func logLevel(_ *state, c *Config) checks.Result {
	v := strings.ToUpper(c.Get("loglevel"))
	fact := strings.ToLower(v)
	var res checks.Result
	switch v {
	case "INFO", "VERBOSE":
		res = checks.Pass("sshd logs at LogLevel %s", v)
	case "SILENT", "QUIET", "FATAL", "ERROR":
		fact = map[string]string{"SILENT": "quiet", "QUIET": "quiet", "FATAL": "fatal", "ERROR": "error"}[v]
		res = checks.Fail("LogLevel %s: logins and failed attempts are not logged", v)
	case "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3":
		if v == "DEBUG" {
			fact = "debug1"
		}
		res = checks.Fail("LogLevel %s: debug logging records more than needed and can expose user data", v)
	default:
		return unexpected("loglevel", v)
	}
	return res.Enum("log_level", fact)
}

// accessRestriction: an allow list limits SSH logins to the accounts meant to use them.
func accessRestriction(_ *state, c *Config) checks.Result {
	au, ag := c.All("allowusers"), c.All("allowgroups")
	du, dg := c.All("denyusers"), c.All("denygroups")
	var res checks.Result
	switch {
	case len(au)+len(ag) > 0:
		res = checks.Pass("SSH logins are limited by AllowUsers/AllowGroups (%d pattern(s))", len(au)+len(ag))
	case len(du)+len(dg) > 0:
		res = checks.Pass("SSH logins are restricted by DenyUsers/DenyGroups only (%d pattern(s))", len(du)+len(dg)).
			Detail("a deny list blocks the accounts it names; an allow list would block every account it does not name")
	default:
		res = checks.Fail("every account with a valid credential may log in over SSH (no AllowUsers, AllowGroups, DenyUsers or DenyGroups)")
	}
	for _, l := range []struct {
		name string
		v    []string
	}{{"AllowUsers", au}, {"AllowGroups", ag}, {"DenyUsers", du}, {"DenyGroups", dg}} {
		if len(l.v) > 0 {
			res = res.Detail("%s %s", l.name, strings.Join(l.v, " "))
		}
	}
	return res.Int("allow_users", int64(len(au))).Int("allow_groups", int64(len(ag))).
		Int("deny_users", int64(len(du))).Int("deny_groups", int64(len(dg))).
		Bool("configured", len(au)+len(ag)+len(du)+len(dg) > 0)
}

// plural formats "n thing(s)".
func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
