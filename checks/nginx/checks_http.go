package nginx

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/report"
)

// noHTTP is the result of the http checks on a configuration without http servers.
func noHTTP() checks.Result {
	return checks.Skip(report.ReasonNotApplicable, "the configuration has no http server block")
}

// tokensValue maps a server_tokens value to its fact value.
func tokensValue(v string) string {
	switch v {
	case "on", "off", "build":
		return v
	}
	return "other"
}

// serverTokens: with server_tokens on (the default) every response and error page names
// the exact nginx version, which tells a scanner which known flaws to try.
func serverTokens(e *env) checks.Result {
	httpBlock := e.cfg.HTTP()
	if httpBlock == nil {
		return noHTTP()
	}
	top := lookupValue(httpBlock, "server_tokens", "on")
	servers := e.cfg.HTTPServers()
	exposing := 0
	var lines []string
	for _, s := range servers {
		levels := append([]*Directive{s.Block}, locations(s.Block)...)
		for _, l := range levels {
			if v := lookupValue(l, "server_tokens", "on"); v != "off" {
				exposing++
				lines = append(lines, fmt.Sprintf("%s: server_tokens %s at %s", s.Label(), v, leafLabel(l)))
				break
			}
		}
	}
	var res checks.Result
	switch {
	case exposing > 0:
		res = checks.Fail("%d of %d server(s) send the nginx version (server_tokens is not off)", exposing, len(servers))
	case len(servers) == 0 && top != "off":
		res = checks.Fail("server_tokens is %s in the http block", top)
	default:
		res = checks.Pass("server_tokens is off for every server")
	}
	if lookup(httpBlock, "server_tokens") == nil {
		res = res.Detail("server_tokens is not set in the http block; nginx defaults to on")
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Enum("server_tokens", tokensValue(top)).Int("exposing_servers", int64(exposing))
}

// schemeCondition reports an if condition on the request's scheme or port, the usual way
// one server block redirects its plain-HTTP requests only.
func schemeCondition(args []string) bool {
	cond := strings.Join(args, " ")
	for _, v := range []string{"$scheme", "$https", "$server_port", "$http_x_forwarded_proto"} {
		if strings.Contains(cond, v) {
			return true
		}
	}
	return false
}

// redirectsPlain reports whether a server answers plain-HTTP requests only with redirects
// to https://, errors or closed connections, ACME challenges (/.well-known/) aside.
func redirectsPlain(s *Server) (bool, string) {
	for _, c := range s.Block.Block {
		if c.Name == "if" && c.IsBlock && schemeCondition(c.Args) && ownAction(c).kind == actionRedirectHTTPS {
			return true, ""
		}
	}
	for _, l := range s.leaves() {
		if isACME(l) {
			continue
		}
		switch ownAction(l).kind {
		case actionRedirectHTTPS, actionError:
			continue
		case actionRedirect:
			return false, leafLabel(l) + " redirects, but not to an https:// URL"
		}
		return false, leafLabel(l) + " serves content"
	}
	return true, ""
}

// httpsRedirect: on a host that has HTTPS, plain HTTP should only redirect to it;
// content served over plain HTTP can be read and changed on the way.
func httpsRedirect(e *env) checks.Result {
	var tls, plain []*Server
	for _, s := range e.cfg.HTTPServers() {
		if s.TLS {
			tls = append(tls, s)
		}
		if len(s.PlainPublic()) > 0 {
			plain = append(plain, s)
		}
	}
	if len(tls) == 0 {
		return checks.Skip(report.ReasonNotApplicable, "no http server accepts TLS, so there is no HTTPS to redirect to").
			Int("tls_servers", 0).Int("plain_servers", int64(len(plain)))
	}
	content := 0
	var lines []string
	for _, s := range plain {
		ok, why := redirectsPlain(s)
		if ok {
			continue
		}
		content++
		lines = append(lines, fmt.Sprintf("%s on %s: %s", s.Label(), s.PlainPublic()[0].Key(), why))
	}
	var res checks.Result
	if content > 0 {
		res = checks.Fail("%d of %d plain-HTTP server(s) serve content instead of redirecting to HTTPS", content, len(plain))
	} else {
		res = checks.Pass("%d plain-HTTP server(s) only redirect to HTTPS (ACME challenges aside)", len(plain))
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Int("tls_servers", int64(len(tls))).Int("plain_servers", int64(len(plain))).Int("content_servers", int64(content))
}

// hstsMinAge is the smallest accepted max-age: 182.5 days (dev-sec nginx-baseline); one
// year is the usual recommendation and what HSTS preload lists require.
const hstsMinAge = 15768000

// hsts: Strict-Transport-Security makes browsers refuse plain HTTP for the site, which
// closes the window a first plain request leaves open. Every level that answers a TLS
// server's requests must send it, with add_header inheritance as nginx applies it.
func hsts(e *env) checks.Result {
	var servers []*Server
	for _, s := range e.cfg.HTTPServers() {
		if s.TLS {
			servers = append(servers, s)
		}
	}
	if len(servers) == 0 {
		return noTLS()
	}
	missingServers, missingLevels := 0, 0
	minAge, present, always := int64(-1), 0, true
	var lines []string
	for _, s := range servers {
		bad := 0
		for _, l := range s.leaves() {
			if ownAction(l).kind == actionError {
				continue
			}
			h, ok := findHeader(headersAt(l), "Strict-Transport-Security")
			if !ok {
				bad++
				lines = append(lines, fmt.Sprintf("%s: no Strict-Transport-Security at %s%s", s.Label(), leafLabel(l), lostHint(l)))
				continue
			}
			age, ok := hstsMaxAge(h.value)
			if !ok {
				if strings.Contains(h.value, "$") {
					lines = append(lines, fmt.Sprintf("%s: Strict-Transport-Security at %s is built from variables; not judged", s.Label(), leafLabel(l)))
					continue
				}
				bad++
				lines = append(lines, fmt.Sprintf("%s: Strict-Transport-Security at %s has no max-age (%s)", s.Label(), leafLabel(l), h.by.Where()))
				continue
			}
			present++
			if minAge < 0 || age < minAge {
				minAge = age
			}
			always = always && h.always
			if age < hstsMinAge {
				bad++
				lines = append(lines, fmt.Sprintf("%s: max-age=%d at %s is below %d (%s)", s.Label(), age, leafLabel(l), hstsMinAge, h.by.Where()))
			}
		}
		if bad > 0 {
			missingServers++
			missingLevels += bad
		}
	}
	var res checks.Result
	if missingServers > 0 {
		res = checks.Fail("%d of %d TLS server(s) do not send Strict-Transport-Security with max-age ≥ %d everywhere", missingServers, len(servers), hstsMinAge)
	} else {
		res = checks.Pass("%d TLS server(s) send Strict-Transport-Security with max-age ≥ %d", len(servers), hstsMinAge)
	}
	if present > 0 && !always {
		res = res.Detail("Strict-Transport-Security is added without \"always\" somewhere, so error responses lack it; add always")
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	res = res.Int("tls_servers", int64(len(servers))).Int("servers_without_hsts", int64(missingServers)).
		Int("levels_without_hsts", int64(missingLevels)).Bool("always", present > 0 && always)
	if minAge >= 0 {
		res = res.Int("min_max_age", min(minAge, 1<<40))
	}
	return res
}

// lostHint explains the add_header trap when a level's own add_header hides headers set
// further out.
func lostHint(l *Directive) string {
	if len(l.All("add_header")) == 0 || l.parent == nil {
		return ""
	}
	if _, ok := findHeader(headersAt(l.parent), "Strict-Transport-Security"); ok {
		return " (it is set further out, but this level's own add_header directives replace the inherited ones)"
	}
	return ""
}

// Security header fact values.
const (
	hdrXCTO     = "x-content-type-options"
	hdrXFO      = "x-frame-options"
	hdrCSP      = "content-security-policy"
	hdrReferrer = "referrer-policy"
)

// securityHeaders: X-Content-Type-Options nosniff, framing control (X-Frame-Options or a
// CSP frame-ancestors), a Content-Security-Policy and a Referrer-Policy, on every level
// that serves content. X-XSS-Protection and Public-Key-Pins are obsolete and not required.
func securityHeaders(e *env) checks.Result {
	missingSet := map[string]bool{}
	obsoleteSet := map[string]bool{}
	servers, missingServers, backend := 0, 0, 0
	var lines []string
	for _, s := range e.cfg.HTTPServers() {
		var levels []*Directive
		for _, l := range s.leaves() {
			if k := ownAction(l).kind; (k == actionNone || k == actionStatus) && !isACME(l) {
				levels = append(levels, l)
			}
		}
		if len(levels) == 0 {
			continue
		}
		servers++
		serverMissing := false
		for _, l := range levels {
			hs := headersAt(l)
			missing := missingHeaders(hs)
			for _, o := range []string{"X-XSS-Protection", "Public-Key-Pins", "Public-Key-Pins-Report-Only"} {
				if _, ok := findHeader(hs, o); ok {
					obsoleteSet[strings.ToLower(strings.TrimSuffix(o, "-Report-Only"))] = true
				}
			}
			if len(missing) == 0 {
				continue
			}
			serverMissing = true
			for _, m := range missing {
				missingSet[m] = true
			}
			note := ""
			if usesBackend(l) {
				backend++
				note = " (responses come from a backend, which may set them itself)"
			}
			lines = append(lines, fmt.Sprintf("%s: %s lacks %s%s", s.Label(), leafLabel(l), strings.Join(missing, ", "), note))
		}
		if serverMissing {
			missingServers++
		}
	}
	if servers == 0 {
		return checks.Skip(report.ReasonNotApplicable, "no http server serves content (all redirect or refuse)")
	}
	var missing []string
	for _, h := range []string{hdrXCTO, hdrXFO, hdrCSP, hdrReferrer} {
		if missingSet[h] {
			missing = append(missing, h)
		}
	}
	var obsolete []string
	for _, h := range []string{"x-xss-protection", "public-key-pins"} {
		if obsoleteSet[h] {
			obsolete = append(obsolete, h)
		}
	}
	var res checks.Result
	if missingServers > 0 {
		res = checks.Fail("%d of %d server(s) lack security headers: %s", missingServers, servers, strings.Join(missing, ", "))
	} else {
		res = checks.Pass("%d server(s) send X-Content-Type-Options, framing control, Content-Security-Policy and Referrer-Policy", servers)
	}
	if len(obsolete) > 0 {
		res = res.Detail("obsolete headers are set (%s): browsers removed the XSS auditor and HPKP; X-XSS-Protection should be absent or 0, and pins can lock visitors out", strings.Join(obsolete, ", "))
	}
	if backend > 0 {
		res = res.Detail("%d level(s) without the headers pass requests to a backend; if the application sets them, nginx forwards them", backend)
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Int("servers", int64(servers)).Int("servers_missing", int64(missingServers)).
		Enums("missing_headers", nonNil(missing)).Enums("obsolete_headers", nonNil(obsolete))
}

// missingHeaders lists the security headers a set of added headers lacks.
func missingHeaders(hs []header) []string {
	var out []string
	if h, ok := findHeader(hs, "X-Content-Type-Options"); !ok || !strings.Contains(strings.ToLower(h.value), "nosniff") {
		out = append(out, hdrXCTO)
	}
	csp, hasCSP := findHeader(hs, "Content-Security-Policy")
	if _, ok := findHeader(hs, "X-Frame-Options"); !ok && !(hasCSP && strings.Contains(strings.ToLower(csp.value), "frame-ancestors")) {
		out = append(out, hdrXFO)
	}
	if !hasCSP {
		out = append(out, hdrCSP)
	}
	if _, ok := findHeader(hs, "Referrer-Policy"); !ok {
		out = append(out, hdrReferrer)
	}
	return out
}

// autoindex: a directory listing shows every file under a root, including backups and
// files nobody meant to publish.
func autoindex(e *env) checks.Result {
	servers := e.cfg.HTTPServers()
	if len(servers) == 0 {
		return noHTTP()
	}
	count := 0
	var lines []string
	for _, s := range servers {
		for _, l := range s.leaves() {
			if lookupValue(l, "autoindex", "off") == "on" {
				count++
				lines = append(lines, fmt.Sprintf("%s: autoindex on at %s", s.Label(), leafLabel(l)))
			}
		}
	}
	var res checks.Result
	if count > 0 {
		res = checks.Fail("directory listing (autoindex on) is enabled at %d level(s)", count)
	} else {
		res = checks.Pass("directory listing is off everywhere")
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Int("autoindex_levels", int64(count))
}

// hiddenProbes are paths a hidden-files rule must cover.
func hiddenProbes() []string { return []string{"/.git/config", "/.env", "/.htpasswd"} }

var lookaround = regexp.MustCompile(`\(\?<?[!=][^()]*\)`)

// matchesHidden reports whether a regex location covers dot files. PCRE lookarounds, which
// Go's regexp lacks, are dropped first ("/\.(?!well-known)" becomes "/\."), which only
// widens the pattern.
func matchesHidden(mod, pattern string) bool {
	p := lookaround.ReplaceAllString(pattern, "")
	if mod == "~*" {
		p = "(?i)" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return strings.Contains(pattern, `/\.`)
	}
	for _, probe := range hiddenProbes() {
		if !re.MatchString(probe) {
			return false
		}
	}
	return true
}

// hiddenFiles: servers that serve files from a root should refuse dot files (.git, .env,
// .htpasswd), which deployments leave behind and which hold source and secrets. A server
// serves files when a level that answers with content (not a redirect, an error, a
// backend or the ACME path) has a root or alias.
func hiddenFiles(e *env) checks.Result {
	applicable, unprotected := 0, 0
	var lines []string
	for _, s := range e.cfg.HTTPServers() {
		hasRoot := false
		for _, l := range s.leaves() {
			if isACME(l) || usesBackend(l) || ownAction(l).kind != actionNone {
				continue
			}
			if l.First("alias") != nil || lookup(l, "root") != nil {
				hasRoot = true
			}
		}
		protected := false
		for _, l := range locations(s.Block) {
			mod, pattern := locationMatch(l)
			if (mod == "~" || mod == "~*") && ownAction(l).kind == actionError && matchesHidden(mod, pattern) {
				protected = true
				if !strings.Contains(pattern, "(?!") && !strings.Contains(pattern, "(?<!") {
					lines = append(lines, fmt.Sprintf("%s: the rule at %s also refuses /.well-known/ (ACME challenges, security.txt); a negative lookahead such as /\\.(?!well-known/) keeps it reachable", s.Label(), l.Where()))
				}
			}
		}
		if !hasRoot {
			continue
		}
		applicable++
		if !protected {
			unprotected++
			lines = append(lines, s.Label()+" serves files but has no location refusing dot files")
		}
	}
	if applicable == 0 {
		return checks.Skip(report.ReasonNotApplicable, "no http server serves files from a root")
	}
	var res checks.Result
	if unprotected > 0 {
		res = checks.Fail("%d of %d server(s) serving files do not refuse dot files (.git, .env)", unprotected, applicable)
	} else {
		res = checks.Pass("%d server(s) serving files refuse dot files", applicable)
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Int("servers_with_root", int64(applicable)).Int("unprotected_servers", int64(unprotected))
}

// aliasTraversal: "location /files { alias /srv/files/; }" maps /files../x to
// /srv/files/../x, one directory above the intended one (the "off-by-slash" mistake).
func aliasTraversal(e *env) checks.Result {
	servers := e.cfg.HTTPServers()
	if len(servers) == 0 {
		return noHTTP()
	}
	count, aliases := 0, 0
	var lines []string
	for _, s := range servers {
		for _, l := range locations(s.Block) {
			a := l.First("alias")
			if a == nil {
				continue
			}
			aliases++
			mod, uri := locationMatch(l)
			if (mod == "" || mod == "^~") && !strings.HasSuffix(uri, "/") && strings.HasSuffix(a.Arg(0), "/") {
				count++
				lines = append(lines, fmt.Sprintf("%s: location %s has alias %s (%s)", s.Label(), uri, a.Arg(0), a.Where()))
			}
		}
	}
	var res checks.Result
	if count > 0 {
		res = checks.Fail("%d location(s) without a trailing slash use an alias with one, allowing a step outside the aliased directory", count)
	} else {
		res = checks.Pass("no location/alias pair allows path traversal (%d alias(es) examined)", aliases)
	}
	for _, l := range lines {
		res = res.Detail("%s", l)
	}
	return res.Int("aliases", int64(aliases)).Int("vulnerable_locations", int64(count))
}
