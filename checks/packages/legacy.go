package packages

import (
	"context"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// legacyServers are packages of cleartext or unauthenticated network services (and
// prelink, which rewrites binaries and defeats integrity checking), by their Debian, Ubuntu,
// Red Hat and Alpine names. Only these names can appear in facts.
func legacyServers() []string {
	return []string{
		"telnetd", "inetutils-telnetd", "telnetd-ssl", "telnet-server",
		"rsh-server", "rsh-redone-server",
		"nis", "ypserv", "ypbind",
		"tftpd-hpa", "tftpd", "atftpd", "tftp-server",
		"xinetd", "openbsd-inetd", "inetutils-inetd",
		"talkd", "inetutils-talkd", "talk-server",
		"prelink",
	}
}

// legacyClients are the matching clients: less dangerous (they send credentials in clear
// text only when used), reported at low severity.
func legacyClients() []string {
	return []string{"telnet", "inetutils-telnet", "rsh-client", "rsh-redone-client", "rsh", "talk", "inetutils-talk", "tftp", "tftp-hpa"}
}

// legacyInsecure: these protocols send passwords and data in clear text or authenticate by
// host name; nothing on a modern server needs them.
func legacyInsecure(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	inv, _ := f.inv.Get(ctx, h)
	if inv.dbErr != nil {
		return checks.FromError("read the package database", inv.dbErr), nil
	}
	var servers, clients []string
	for _, n := range legacyServers() {
		if inv.installed(n) {
			servers = append(servers, n)
		}
	}
	for _, n := range legacyClients() {
		if inv.installed(n) {
			clients = append(clients, n)
		}
	}
	slices.Sort(servers)
	slices.Sort(clients)
	var res checks.Result
	switch {
	case len(servers) > 0:
		res = checks.Fail("legacy insecure service package(s) installed: %s", strings.Join(servers, ", "))
		if len(clients) > 0 {
			res = res.Detail("legacy clients installed too: %s", strings.Join(clients, ", "))
		}
	case len(clients) > 0:
		res = checks.Fail("legacy cleartext client package(s) installed: %s", strings.Join(clients, ", ")).WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Pass("none of the %d legacy insecure packages checked is installed", len(legacyServers())+len(legacyClients()))
	}
	return res.Enums("servers", orEmpty(servers)).Enums("clients", orEmpty(clients)).
		Int("server_count", int64(len(servers))).Int("client_count", int64(len(clients))), nil
}
