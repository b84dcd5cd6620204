package nginx

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// noTLS is the result of the TLS checks on a configuration without TLS servers.
func noTLS() checks.Result {
	return checks.Skip(report.ReasonNotApplicable, "no server accepts TLS connections (listen … ssl/quic or ssl on)").Int("tls_servers", 0)
}

// orderProtocols sorts protocol names oldest first.
func orderProtocols(set map[string]bool) []string {
	var out []string
	for _, p := range protocolNames() {
		if set[p] {
			out = append(out, p)
		}
	}
	return out
}

// withBuild adds the nginx version and TLS library facts when known.
func withBuild(r checks.Result, b Build) checks.Result {
	if !b.Known {
		return r.Detail("the nginx version is unknown; defaults of releases before 1.27.3 are assumed")
	}
	r = r.Version("nginx_version", b.Version.String())
	if b.TLSLibrary != "" {
		r = r.Enum("tls_library", b.TLSLibrary).Version("tls_library_version", b.TLSVersion.String())
	}
	return r
}

// tlsProtocols: SSLv2/SSLv3, TLS 1.0 and TLS 1.1 are deprecated (RFC 8996); an unset
// ssl_protocols enables TLS 1.0 and 1.1 on every nginx before 1.27.3.
func tlsProtocols(e *env) checks.Result {
	servers := e.cfg.TLSServers()
	if len(servers) == 0 {
		return noTLS()
	}
	enabled := map[string]bool{}
	legacyServers, usesDefault, seclevel0 := 0, false, false
	var lines []string
	cache := cipherCache{}
	for _, s := range servers {
		protos, def := effectiveProtocols(s, e.s.build)
		for _, p := range protos {
			enabled[p] = true
		}
		usesDefault = usesDefault || def
		legacy := slices.DeleteFunc(slices.Clone(protos), func(p string) bool { return !isLegacyProtocol(p) })
		if len(legacy) == 0 {
			continue
		}
		legacyServers++
		how := "set by ssl_protocols"
		if def {
			how = "the default of this nginx release, as ssl_protocols is not set"
		}
		lines = append(lines, fmt.Sprintf("%s accepts %s (%s)", s.Label(), strings.Join(legacy, ", "), how))
		spec, _ := effectiveCiphers(s)
		seclevel0 = seclevel0 || cache.analyze(spec).seclevel0
	}
	var res checks.Result
	if legacyServers == 0 {
		res = checks.Pass("%d TLS server(s) accept only TLS 1.2 or newer", len(servers))
	} else {
		res = checks.Fail("%d of %d TLS server(s) accept legacy protocols: %s", legacyServers, len(servers),
			strings.Join(orderProtocols(legacyOnly(enabled)), ", "))
		if e.s.build.OpenSSL3() && !seclevel0 {
			res = res.WithSeverity(catalog.SeverityMedium).Detail("nginx runs with OpenSSL %s, which refuses TLS 1.0 and 1.1 unless the security level is 0 (@SECLEVEL=0 in ssl_ciphers): the legacy protocols are configured but cannot be negotiated; remove them all the same", e.s.build.TLSVersion)
		}
		for _, l := range lines {
			res = res.Detail("%s", l)
		}
	}
	res = res.Enums("protocols", lowerAll(orderProtocols(enabled))).Int("tls_servers", int64(len(servers))).
		Int("legacy_servers", int64(legacyServers)).Bool("protocols_default", usesDefault)
	return withBuild(res, e.s.build)
}

// nonNil makes an empty list fact an empty list rather than null.
func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// lowerAll lower-cases protocol names for the protocols fact.
func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}

func legacyOnly(set map[string]bool) map[string]bool {
	out := map[string]bool{}
	for p := range set {
		if isLegacyProtocol(p) {
			out[p] = true
		}
	}
	return out
}

// tlsCiphers: broken suites (RC4, DES, 3DES, NULL, EXPORT, anonymous, MD5) or
// @SECLEVEL=0 fail; RSA key exchange (no forward secrecy) is a low-severity finding.
func tlsCiphers(e *env) checks.Result {
	servers := e.cfg.TLSServers()
	if len(servers) == 0 {
		return noTLS()
	}
	weakSet := map[string]bool{}
	weakServers, nonPFS, evaluated := 0, 0, 0
	usesDefault := false
	var lines []string
	cache := cipherCache{}
	for _, s := range servers {
		protos, _ := effectiveProtocols(s, e.s.build)
		if !slices.ContainsFunc(protos, func(p string) bool { return p != "TLSv1.3" }) {
			lines = append(lines, s.Label()+" accepts only TLS 1.3, whose suites ssl_ciphers does not select")
			continue
		}
		evaluated++
		spec, def := effectiveCiphers(s)
		usesDefault = usesDefault || def
		r := cache.analyze(spec)
		if len(r.weak) > 0 {
			weakServers++
			for _, c := range r.weak {
				weakSet[c] = true
			}
			lines = append(lines, fmt.Sprintf("%s enables %s", s.Label(), strings.Join(r.weak, ", ")))
		}
		if r.nonPFS {
			nonPFS++
			if len(r.weak) == 0 {
				lines = append(lines, s.Label()+" allows RSA key exchange (no forward secrecy)")
			}
		}
	}
	var weak []string
	for _, c := range weakCategories() {
		if weakSet[c] {
			weak = append(weak, c)
		}
	}
	var res checks.Result
	switch {
	case weakServers > 0:
		res = checks.Fail("%d TLS server(s) enable weak cipher suites: %s", weakServers, strings.Join(weak, ", "))
	case nonPFS > 0:
		res = checks.Fail("%d TLS server(s) allow RSA key exchange, which has no forward secrecy", nonPFS).WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Pass("the cipher suites of %d TLS server(s) all have forward secrecy and none is weak", evaluated)
	}
	if usesDefault {
		res = res.Detail("ssl_ciphers is not set on some servers: nginx's default %q includes RSA key exchange", defaultCiphers)
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Enums("weak_ciphers", nonNil(weak)).Int("tls_servers", int64(len(servers))).Int("weak_servers", int64(weakServers)).
		Int("non_pfs_servers", int64(nonPFS)).Bool("ciphers_default", usesDefault)
}

// tlsValues returns the resolved file values of an array-like TLS directive in effect on
// every TLS server plus every occurrence anywhere (an http-level default, an unused one),
// each once, with the values that name no file (data:, engine:, variables) apart.
func tlsValues(cfg *Config, name string) (files, other []string) {
	seen := map[string]bool{}
	add := func(v string) {
		if pathValue(v) {
			v = fullName(cfg.ConfPrefix, v)
		}
		if v == "" || seen[v] {
			return
		}
		seen[v] = true
		if pathValue(v) {
			files = append(files, v)
		} else {
			other = append(other, v)
		}
	}
	for _, s := range cfg.TLSServers() {
		for _, d := range lookupArray(s.Block, name) {
			add(d.Arg(0))
		}
	}
	cfg.Main.Walk(func(d *Directive) {
		if d.Name == name {
			add(d.Arg(0))
		}
	})
	return files, other
}

// keyPermissions: whoever reads a server's private key can impersonate it. Keys are only
// stat'ed. Debian's convention of group ssl-cert (0640 root:ssl-cert) is accepted.
func keyPermissions(e *env) checks.Result {
	keys, other := tlsValues(e.cfg, "ssl_certificate_key")
	if len(keys) == 0 {
		if len(other) > 0 {
			return checks.Skip(report.ReasonNotApplicable, "the private keys are inline, from an engine or chosen by variables; there is no key file to examine")
		}
		return noTLS()
	}
	fsys := e.h.FS()
	sslCert := groupGID(fsys, "ssl-cert")
	found, otherAccess, groupRead, notRoot := 0, 0, 0, 0
	var problems, notes []string
	worst := catalog.SeverityInfo
	raise := func(s catalog.Severity) {
		if s.Rank() > worst.Rank() {
			worst = s
		}
	}
	for _, k := range keys {
		fi, err := fsys.Stat(k)
		if err != nil {
			notes = append(notes, fmt.Sprintf("stat %s: %v", k, err))
			continue
		}
		found++
		perm := fi.Perm()
		if fi.UID != 0 {
			notRoot++
			raise(catalog.SeverityHigh)
			problems = append(problems, fmt.Sprintf("%s is owned by UID %d, not root", k, fi.UID))
		}
		if perm&0o007 != 0 {
			otherAccess++
			raise(catalog.SeverityHigh)
			problems = append(problems, fmt.Sprintf("%s is accessible to every user (mode %04o)", k, perm))
		}
		switch {
		case perm&0o070 == 0:
		case sslCert >= 0 && int64(fi.GID) == sslCert && perm&0o030 == 0:
			notes = append(notes, fmt.Sprintf("%s is readable by group ssl-cert (mode %04o), Debian's convention for services that need the key", k, perm))
		default:
			groupRead++
			raise(catalog.SeverityMedium)
			problems = append(problems, fmt.Sprintf("%s is accessible to group %d (mode %04o)", k, fi.GID, perm))
		}
	}
	if found == 0 {
		res := checks.Skip(report.ReasonNotFound, "none of the %d configured private key file(s) exists", len(keys))
		for _, n := range notes {
			res = res.Detail("%s", n)
		}
		return res
	}
	var res checks.Result
	if len(problems) == 0 {
		res = checks.Pass("%d private key file(s) are owned by root and not readable by other users", found)
	} else {
		res = checks.Fail("%s", problems[0]).WithSeverity(worst)
		for _, p := range problems[1:] {
			res = res.Detail("%s", p)
		}
	}
	for _, n := range notes {
		res = res.Detail("%s", n)
	}
	if len(other) > 0 {
		res = res.Detail("%d ssl_certificate_key value(s) name no file (data:, engine: or variables) and were not examined", len(other))
	}
	return res.Int("key_files", int64(found)).Int("other_accessible", int64(otherAccess)).
		Int("group_accessible", int64(groupRead)).Int("not_root_owned", int64(notRoot)).Int("missing", int64(len(keys)-found))
}

// groupGID returns the GID of a group from /etc/group, -1 when absent.
func groupGID(fsys host.FS, name string) int64 {
	data, err := host.ReadFileLimit(fsys, "/etc/group", 4<<20)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			var gid int64
			if _, err := fmt.Sscan(f[2], &gid); err == nil {
				return gid
			}
		}
	}
	return -1
}

// Certificate expiry thresholds in days.
const (
	certFailDays = 14
	certWarnDays = 30
)

// certificateExpiry: an expired certificate breaks every client; one about to expire
// usually means renewal is broken. Every certificate of each ssl_certificate bundle counts
// (an expiring intermediate breaks the chain too). Only day counts are reported.
func certificateExpiry(e *env) checks.Result {
	files, other := tlsValues(e.cfg, "ssl_certificate")
	var inline []string
	for _, o := range other {
		if strings.HasPrefix(o, "data:") {
			inline = append(inline, o)
		}
	}
	if len(files)+len(inline) == 0 {
		if len(other) > 0 {
			return checks.Skip(report.ReasonNotApplicable, "the certificates are chosen by variables at run time; there is no file to examine")
		}
		return noTLS()
	}
	fsys := e.h.FS()
	read, expired, soon := 0, 0, 0
	minDays := int64(math.MaxInt64)
	var lines, notes []string
	var lastErr error
	for _, v := range append(files, inline...) {
		label := v
		if strings.HasPrefix(v, "data:") {
			label = "an inline certificate"
		}
		certs, err := readCertificates(fsys, v)
		if err != nil {
			lastErr = err
			notes = append(notes, fmt.Sprintf("%s: %v", label, err))
			continue
		}
		read++
		fileMin := int64(math.MaxInt64)
		for _, c := range certs {
			days := int64(math.Floor(c.NotAfter.Sub(e.now).Hours() / 24))
			fileMin = min(fileMin, days)
		}
		minDays = min(minDays, fileMin)
		switch {
		case fileMin < 0:
			expired++
			lines = append(lines, fmt.Sprintf("%s: expired %d day(s) ago", label, -fileMin))
		case fileMin < certWarnDays:
			soon++
			lines = append(lines, fmt.Sprintf("%s: expires in %d day(s)", label, fileMin))
		default:
			notes = append(notes, fmt.Sprintf("%s: valid for %d more day(s)", label, fileMin))
		}
	}
	if read == 0 {
		res := checks.FromError("read certificates", lastErr)
		if lastErr == nil || errors.Is(lastErr, fs.ErrNotExist) {
			res = checks.Skip(report.ReasonNotFound, "none of the %d configured certificate(s) could be read", len(files)+len(inline))
		}
		for _, n := range notes {
			res = res.Detail("%s", n)
		}
		return res
	}
	var res checks.Result
	switch {
	case expired > 0:
		res = checks.Fail("%d certificate file(s) hold an expired certificate", expired)
	case minDays < certFailDays:
		res = checks.Fail("a certificate expires in %d day(s)", minDays).WithSeverity(catalog.SeverityMedium)
	case minDays < certWarnDays:
		res = checks.Fail("a certificate expires in %d day(s)", minDays).WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Pass("%d certificate file(s) are valid for at least %d more day(s)", read, minDays)
	}
	for _, l := range append(lines, notes...) {
		res = res.Detail("%s", l)
	}
	return res.Int("certificates", int64(read)).Int("min_days_left", clampDays(minDays)).
		Int("expired", int64(expired)).Int("expiring_soon", int64(soon))
}

// clampDays keeps a day count inside the declared fact range.
func clampDays(d int64) int64 { return max(-36500, min(36500, d)) }

// sessionTickets: with TLS 1.2, a session ticket is encrypted with a key nginx makes at
// start and keeps until restart (or with ssl_session_ticket_key files), so one stolen key
// decrypts every recorded session since: tickets undo forward secrecy. TLS 1.3 resumption
// keeps it, so servers accepting only TLS 1.3 are not counted.
func sessionTickets(e *env) checks.Result {
	servers := e.cfg.TLSServers()
	if len(servers) == 0 {
		return noTLS()
	}
	tickets, tls12 := 0, 0
	var lines []string
	byListener := map[string]int{}
	for _, s := range servers {
		for _, l := range s.Listens {
			if l.TLSOn(s) {
				byListener[l.Key()]++
			}
		}
	}
	mtlsShared := false
	for _, s := range servers {
		if v := lookupValue(s.Block, "ssl_verify_client", "off"); v != "off" {
			for _, l := range s.Listens {
				if l.TLSOn(s) && byListener[l.Key()] > 1 {
					mtlsShared = true
					lines = append(lines, fmt.Sprintf("%s verifies client certificates on listener %s shared with other TLS servers: before nginx 1.27.4 and 1.26.3 a resumed session could skip that verification (CVE-2025-23419) unless session tickets and the session cache are off or your distribution backported the fix", s.Label(), l.Key()))
					break
				}
			}
		}
		protos, _ := effectiveProtocols(s, e.s.build)
		if !slices.ContainsFunc(protos, func(p string) bool { return p != "TLSv1.3" }) {
			continue
		}
		tls12++
		if lookupValue(s.Block, "ssl_session_tickets", "on") != "on" {
			continue
		}
		tickets++
		line := s.Label() + " issues TLS 1.2 session tickets"
		if lookup(s.Block, "ssl_session_ticket_key") != nil {
			line += " (with ssl_session_ticket_key files, which must be rotated)"
		} else {
			line += " (ssl_session_tickets defaults to on)"
		}
		lines = append(lines, line)
	}
	var res checks.Result
	if tickets > 0 {
		res = checks.Fail("%d of %d TLS 1.2 server(s) issue session tickets", tickets, tls12)
	} else {
		res = checks.Pass("no TLS 1.2 server issues session tickets (%d TLS server(s))", len(servers))
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	res = res.Int("tls_servers", int64(len(servers))).Int("ticket_servers", int64(tickets)).Bool("mtls_shared_listener", mtlsShared)
	return withBuild(res, e.s.build)
}
