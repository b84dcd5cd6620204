package nginx

import (
	"fmt"
	"strconv"
	"strings"
)

// Source says where the effective configuration came from.
type Source string

// Configuration sources (the config_source fact).
const (
	// SourceNginxT is the output of `nginx -T`: the files nginx itself read.
	SourceNginxT Source = "nginx-t"
	// SourceParser is the Go parser reading the files.
	SourceParser Source = "parser"
)

// Config is nginx's effective configuration: the directive tree with includes expanded,
// the files it came from and how paths in it resolve.
type Config struct {
	Source Source
	// Why says why the parser was used (empty for nginx -T).
	Why string
	// Main is the main context.
	Main *Directive
	// Files are the configuration files, the main file first.
	Files []string
	// ConfPath is the main file; ConfPrefix its directory (with a trailing slash), against
	// which include, ssl_certificate and auth_basic_user_file paths resolve; Prefix the
	// server prefix (-p or --prefix), against which root and log paths resolve.
	ConfPath, ConfPrefix, Prefix string
	// Servers are the http and stream server blocks, in order.
	Servers []*Server
}

// describe is the detail line naming the configuration's origin.
func (c *Config) describe() string {
	if c.Source == SourceNginxT {
		return fmt.Sprintf("source: nginx -T (%d configuration file(s))", len(c.Files))
	}
	return fmt.Sprintf("source: %s and its includes parsed (%d file(s); %s)", c.ConfPath, len(c.Files), c.Why)
}

// newConfig derives the server list from a parsed tree.
func newConfig(res *parseResult, src Source, why, confPath, prefix string) *Config {
	c := &Config{Source: src, Why: why, Main: res.main, Files: res.files, ConfPath: confPath,
		ConfPrefix: dirPrefix(confPath), Prefix: prefix}
	for _, kind := range []string{"http", "stream"} {
		for _, top := range res.main.All(kind) {
			var group []*Server
			for _, d := range top.All("server") {
				if d.IsBlock {
					group = append(group, newServer(kind, d))
				}
			}
			markTLS(group)
			c.Servers = append(c.Servers, group...)
		}
	}
	return c
}

// HTTPServers returns the http server blocks.
func (c *Config) HTTPServers() []*Server {
	return c.filter(func(s *Server) bool { return s.Kind == "http" })
}

// TLSServers returns the http and stream servers that speak TLS.
func (c *Config) TLSServers() []*Server { return c.filter(func(s *Server) bool { return s.TLS }) }

func (c *Config) filter(keep func(*Server) bool) []*Server {
	var out []*Server
	for _, s := range c.Servers {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// HTTP returns the http block, nil when there is none.
func (c *Config) HTTP() *Directive { return c.Main.First("http") }

// Server is one server block.
type Server struct {
	// Kind is "http" or "stream".
	Kind    string
	Block   *Directive
	Listens []Listen
	// TLS is true when the server accepts TLS connections on some listener.
	TLS bool
}

// Name is the server's first server_name, or its first listen address, for details.
func (s *Server) Name() string {
	if sn := s.Block.First("server_name"); sn != nil && len(sn.Args) > 0 && sn.Args[0] != "" {
		return sn.Args[0]
	}
	if len(s.Listens) > 0 {
		return s.Listens[0].Key()
	}
	return "server"
}

// Label names the server in details: its name and where it is defined.
func (s *Server) Label() string {
	return fmt.Sprintf("%s server %s (%s)", s.Kind, s.Name(), s.Block.Where())
}

// Listen is one listen directive.
type Listen struct {
	// Host is the address ("*" for any IPv4 address, "[::]" for any IPv6 one), Port the port.
	Host string
	Port int
	// Unix is true for a unix: socket.
	Unix bool
	// SSL and QUIC are the listen parameters.
	SSL, QUIC bool
}

// Key identifies the listening socket ("*:443").
func (l Listen) Key() string {
	if l.Unix {
		return l.Host
	}
	return l.Host + ":" + strconv.Itoa(l.Port)
}

// Local is true for loopback and unix sockets, which only this machine reaches.
func (l Listen) Local() bool {
	if l.Unix {
		return true
	}
	h := strings.ToLower(l.Host)
	return strings.HasPrefix(h, "127.") || h == "[::1]" || h == "localhost"
}

// TLSOn reports whether connections on this listener use TLS for server s.
func (l Listen) TLSOn(s *Server) bool { return l.SSL || l.QUIC || s.sslOn() }

// parseListen reads a listen directive's address and parameters. http listeners default to
// port 80; a bare number is a port on every address.
func parseListen(d *Directive) Listen {
	var l Listen
	addr := d.Arg(0)
	for _, p := range d.Args[min(1, len(d.Args)):] {
		switch p {
		case "ssl":
			l.SSL = true
		case "quic":
			l.QUIC = true
		}
	}
	switch {
	case strings.HasPrefix(addr, "unix:"):
		l.Unix, l.Host = true, addr
		return l
	case isDigits(addr):
		l.Host, l.Port = "*", atoi(addr)
		return l
	}
	host, port := addr, 80
	if strings.HasPrefix(addr, "[") {
		if i := strings.Index(addr, "]"); i >= 0 {
			host = addr[:i+1]
			if p, ok := strings.CutPrefix(addr[i+1:], ":"); ok {
				port = atoi(p)
			}
		}
	} else if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		host, port = addr[:i], atoi(addr[i+1:])
	}
	if host == "0.0.0.0" || host == "" {
		host = "*"
	}
	l.Host, l.Port = host, port
	return l
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func newServer(kind string, d *Directive) *Server {
	s := &Server{Kind: kind, Block: d}
	for _, l := range d.All("listen") {
		s.Listens = append(s.Listens, parseListen(l))
	}
	if len(s.Listens) == 0 && kind == "http" {
		// nginx listens on *:80 for a server without listen (8000 when not run as root).
		s.Listens = []Listen{{Host: "*", Port: 80}}
	}
	return s
}

// markTLS sets Server.TLS. The ssl parameter belongs to the listening socket, so every
// server sharing an address:port with an ssl listener speaks TLS there too.
func markTLS(group []*Server) {
	tlsKeys := map[string]bool{}
	for _, s := range group {
		for _, l := range s.Listens {
			if l.SSL {
				tlsKeys[l.Key()] = true
			}
		}
	}
	for _, s := range group {
		for i, l := range s.Listens {
			if tlsKeys[l.Key()] {
				s.Listens[i].SSL = true
			}
			if s.Listens[i].TLSOn(s) {
				s.TLS = true
			}
		}
	}
}

// sslOn reports the legacy "ssl on" directive (removed in nginx 1.25.1) in the server or
// the http block.
func (s *Server) sslOn() bool {
	d := lookup(s.Block, "ssl")
	return d != nil && d.Arg(0) == "on"
}

// PlainPublic returns the listeners without TLS that other machines can reach.
func (s *Server) PlainPublic() []Listen {
	var out []Listen
	for _, l := range s.Listens {
		if !l.TLSOn(s) && !l.Local() {
			out = append(out, l)
		}
	}
	return out
}

// lookup returns the directive name in effect at d for a directive inherited from outer
// levels (most directives): the one in d's own block, else in the nearest enclosing block
// that has it; nil when none does.
func lookup(d *Directive, name string) *Directive {
	for b := d; b != nil; b = b.parent {
		if found := b.First(name); found != nil {
			return found
		}
	}
	return nil
}

// lookupValue is lookup's first argument, or def when the directive is not set.
func lookupValue(d *Directive, name, def string) string {
	if found := lookup(d, name); found != nil {
		return found.Arg(0)
	}
	return def
}

// lookupArray returns the array-like directives (add_header, ssl_certificate, …) in effect
// at d: those of the nearest level that defines any; a level with its own replaces all of
// its parents'.
func lookupArray(d *Directive, name string) []*Directive {
	for b := d; b != nil; b = b.parent {
		if all := b.All(name); len(all) > 0 {
			return all
		}
	}
	return nil
}

// locationMatch splits a location's arguments into its modifier ("", "=", "~", "~*", "^~",
// "@") and URI or pattern; nginx accepts the modifier written apart or glued to the URI.
func locationMatch(d *Directive) (mod, uri string) {
	if len(d.Args) >= 2 {
		return d.Args[0], d.Args[1]
	}
	a := d.Arg(0)
	for _, m := range []string{"^~", "~*", "=", "~"} {
		if rest, ok := strings.CutPrefix(a, m); ok {
			return m, rest
		}
	}
	if strings.HasPrefix(a, "@") {
		return "@", a
	}
	return "", a
}

// isCatchAll reports whether a location matches every URI ("location /").
func isCatchAll(d *Directive) bool {
	mod, uri := locationMatch(d)
	return (mod == "" || mod == "^~") && uri == "/"
}

// locations returns every location block below d (nested ones too), in order.
func locations(d *Directive) []*Directive {
	var out []*Directive
	for _, c := range d.Block {
		if c.Name == "location" && c.IsBlock {
			out = append(out, c)
			out = append(out, locations(c)...)
		}
	}
	return out
}

// leaves returns the configuration levels that answer requests for an http server: every
// location (nested ones and "if" blocks inside locations too), and the server level itself
// when some URI matches no location. A server-level return or redirecting rewrite answers
// every request before locations are searched, so the server level is then the only leaf.
func (s *Server) leaves() []*Directive {
	if act := ownAction(s.Block); act.kind != actionNone {
		return []*Directive{s.Block}
	}
	var out []*Directive
	catchAll := false
	var walk func(*Directive)
	walk = func(d *Directive) {
		for _, c := range d.Block {
			if !c.IsBlock {
				continue
			}
			switch c.Name {
			case "location":
				if c.parent == s.Block && isCatchAll(c) {
					catchAll = true
				}
				out = append(out, c)
				walk(c)
			case "if":
				if d != s.Block {
					out = append(out, c)
					walk(c)
				}
			}
		}
	}
	walk(s.Block)
	if !catchAll {
		out = append([]*Directive{s.Block}, out...)
	}
	return out
}

// leafLabel names a leaf in details.
func leafLabel(d *Directive) string {
	switch d.Name {
	case "location":
		return fmt.Sprintf("location %s (%s)", strings.Join(d.Args, " "), d.Where())
	case "if":
		return fmt.Sprintf("if %s (%s)", strings.Join(d.Args, " "), d.Where())
	}
	return fmt.Sprintf("server level (%s)", d.Where())
}

// actionKind classifies how a configuration level answers.
type actionKind int

const (
	// actionNone: no return or redirect of its own; it serves content (files or a backend).
	actionNone actionKind = iota
	// actionRedirectHTTPS: a redirect to an https:// URL.
	actionRedirectHTTPS
	// actionRedirect: a redirect elsewhere ($scheme://, http://, a relative URL).
	actionRedirect
	// actionError: an error status, a closed connection (444) or deny all.
	actionError
	// actionStatus: a fixed 1xx/2xx answer ("return 200 ok").
	actionStatus
)

// action is how a level answers, and the directive that decides it.
type action struct {
	kind actionKind
	by   *Directive
	code int
}

// ownAction classifies a level by its own directives: return, a redirecting rewrite, or
// deny all without allow.
func ownAction(d *Directive) action {
	for _, c := range d.Block {
		switch c.Name {
		case "return":
			return classifyReturn(c)
		case "rewrite":
			if a, ok := classifyRewrite(c); ok {
				return a
			}
		}
	}
	if deny := d.First("deny"); deny != nil && deny.Arg(0) == "all" && d.First("allow") == nil {
		return action{kind: actionError, by: deny, code: 403}
	}
	return action{}
}

// redirectCodes are the status codes with which return sends a Location.
func isRedirectCode(code int) bool {
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308
}

func classifyReturn(d *Directive) action {
	first := d.Arg(0)
	if !isDigits(first) {
		// return URL: a 302 redirect.
		return action{kind: redirectKind(first), by: d, code: 302}
	}
	code := atoi(first)
	switch {
	case isRedirectCode(code):
		return action{kind: redirectKind(d.Arg(1)), by: d, code: code}
	case code >= 400:
		return action{kind: actionError, by: d, code: code}
	}
	return action{kind: actionStatus, by: d, code: code}
}

func redirectKind(url string) actionKind {
	if strings.HasPrefix(strings.ToLower(url), "https://") {
		return actionRedirectHTTPS
	}
	return actionRedirect
}

// classifyRewrite reports a rewrite that redirects: a replacement starting with a scheme
// or the redirect/permanent flag.
func classifyRewrite(d *Directive) (action, bool) {
	repl, flag := strings.ToLower(d.Arg(1)), d.Arg(2)
	absolute := strings.HasPrefix(repl, "http://") || strings.HasPrefix(repl, "https://") || strings.HasPrefix(repl, "$scheme://")
	if !absolute && flag != "redirect" && flag != "permanent" {
		return action{}, false
	}
	code := 302
	if flag == "permanent" {
		code = 301
	}
	return action{kind: redirectKind(repl), by: d, code: code}, true
}

// backendDirectives hand a request to another server; the response headers then partly
// come from it.
func backendDirectives() []string {
	return []string{"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"}
}

// usesBackend reports whether a level passes requests to a backend itself (these
// directives are not inherited).
func usesBackend(d *Directive) bool {
	for _, name := range backendDirectives() {
		if d.First(name) != nil {
			return true
		}
	}
	return false
}

// isACME reports whether a location serves /.well-known/ (ACME HTTP-01 challenges), which
// must stay reachable over plain HTTP.
func isACME(d *Directive) bool {
	if d.Name != "location" {
		return false
	}
	_, uri := locationMatch(d)
	return strings.Contains(uri, ".well-known")
}
