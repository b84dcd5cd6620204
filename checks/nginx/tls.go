package nginx

import (
	"slices"
	"strings"
)

// protocolNames are the ssl_protocols values nginx knows, oldest first; they are also the
// declared values of the protocols facts.
func protocolNames() []string {
	return []string{"SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
}

// isLegacyProtocol reports SSLv2, SSLv3, TLS 1.0 and TLS 1.1 (deprecated by RFC 8996).
func isLegacyProtocol(p string) bool {
	return p == "SSLv2" || p == "SSLv3" || p == "TLSv1" || p == "TLSv1.1"
}

// defaultProtocols is ssl_protocols when the directive is not set, per the nginx change
// log: SSLv3 left the default in 1.9.1, TLSv1.3 joined it in 1.23.4 ("now TLSv1.3 protocol
// is enabled by default"), TLSv1 and TLSv1.1 left it in 1.27.3 ("now TLSv1 and TLSv1.1
// protocols are disabled by default"). An unknown release is assumed older than 1.27.3.
func defaultProtocols(b Build) []string {
	v := b.Version
	switch {
	case b.Known && v.AtLeast(1, 27, 3):
		return []string{"TLSv1.2", "TLSv1.3"}
	case b.Known && v.AtLeast(1, 23, 4):
		return []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
	case b.Known && v.Less(Version{1, 9, 1}):
		return []string{"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"}
	}
	return []string{"TLSv1", "TLSv1.1", "TLSv1.2"}
}

// effectiveProtocols returns the protocols a TLS server accepts and whether they are the
// version default. A server reached only over QUIC speaks TLS 1.3 whatever ssl_protocols
// says. Names are matched without regard to case, as nginx does.
func effectiveProtocols(s *Server, b Build) ([]string, bool) {
	quicOnly := true
	for _, l := range s.Listens {
		if l.TLSOn(s) && !l.QUIC {
			quicOnly = false
		}
	}
	if quicOnly {
		return []string{"TLSv1.3"}, false
	}
	d := lookup(s.Block, "ssl_protocols")
	if d == nil {
		return defaultProtocols(b), true
	}
	var out []string
	for _, a := range d.Args {
		for _, p := range protocolNames() {
			if strings.EqualFold(a, p) && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, false
}

// defaultCiphers is nginx's ssl_ciphers default (since 1.0.5).
const defaultCiphers = "HIGH:!aNULL:!MD5"

// Cipher categories found by analyzeCiphers; the weak ones are the declared values of the
// weak_ciphers fact.
const (
	catRC4       = "rc4"
	catDES       = "des"
	cat3DES      = "3des"
	catMD5       = "md5"
	catNULL      = "null"
	catExport    = "export"
	catANULL     = "anull"
	catSeclevel0 = "seclevel0"
	// catRSA: RSA key exchange, without forward secrecy.
	catRSA = "rsa"
)

// weakCategories lists the weak categories in report order.
func weakCategories() []string {
	return []string{catRC4, catDES, cat3DES, catMD5, catNULL, catExport, catANULL, catSeclevel0}
}

// cipherAlias is what an OpenSSL cipher-string alias may select (includes) and which
// category it selects completely, so that negating it removes that category (defines).
type cipherAlias struct {
	includes []string
	defines  string
}

// cipherAliases covers the OpenSSL aliases seen in nginx configurations. Broad selectors
// (ALL, HIGH, AES …) include anonymous and RSA key exchange suites unless negated; 3DES
// sits in MEDIUM and ALL since OpenSSL 1.1.0.
func cipherAliases() map[string]cipherAlias {
	broad := []string{catANULL, catRSA}
	broadSHA1 := []string{catANULL, catRSA, cat3DES}
	m := map[string]cipherAlias{
		"ALL":                 {includes: []string{catANULL, cat3DES, catRSA}},
		"COMPLEMENTOFALL":     {includes: []string{catNULL}, defines: catNULL},
		"COMPLEMENTOFDEFAULT": {includes: []string{catANULL, catNULL}},
		"DEFAULT":             {includes: []string{catRSA}},
		"HIGH":                {includes: broad},
		"MEDIUM":              {includes: []string{catANULL, cat3DES, catRSA}, defines: cat3DES},
		"LOW":                 {includes: []string{catDES, catRSA, catANULL}, defines: catDES},
		"EXP":                 {includes: []string{catExport, catRC4, catDES, catRSA, catANULL, catMD5}, defines: catExport},
		"aNULL":               {includes: []string{catANULL, catRC4, catDES, cat3DES, catExport, catMD5}, defines: catANULL},
		"ADH":                 {includes: []string{catANULL, catRC4, catDES, cat3DES, catExport, catMD5}, defines: catANULL},
		"AECDH":               {includes: []string{catANULL, catRC4, cat3DES}},
		"eNULL":               {includes: []string{catNULL, catRSA, catMD5}, defines: catNULL},
		"RC4":                 {includes: []string{catRC4, catRSA, catANULL, catMD5}, defines: catRC4},
		"DES":                 {includes: []string{catDES, catRSA, catExport}, defines: catDES},
		"3DES":                {includes: []string{cat3DES, catRSA}, defines: cat3DES},
		"MD5":                 {includes: []string{catMD5, catRC4, catRSA, catExport, catNULL}, defines: catMD5},
		"kRSA":                {includes: []string{catRSA, catRC4, catDES, cat3DES, catMD5, catExport, catNULL}, defines: catRSA},
		"SHA1":                {includes: broadSHA1, defines: cat3DES},
		"SHA":                 {includes: broadSHA1, defines: cat3DES},
		"SSLv3":               {includes: broadSHA1},
		"TLSv1":               {includes: broadSHA1},
		"TLSv1.0":             {includes: broadSHA1},
		"kEDH":                {includes: []string{catANULL, cat3DES, catDES}},
		"DHE":                 {includes: []string{cat3DES}},
		"ECDHE":               {includes: []string{cat3DES}},
		"aECDSA":              {includes: []string{cat3DES}},
	}
	for _, a := range []string{"EXPORT", "EXPORT40", "EXPORT56"} {
		m[a] = m["EXP"]
	}
	m["NULL"] = m["eNULL"]
	m["RSA"], m["aRSA"] = m["kRSA"], cipherAlias{includes: m["kRSA"].includes, defines: catRSA}
	for _, a := range []string{"kDHE", "DH"} {
		m[a] = m["kEDH"]
	}
	for _, a := range []string{"kECDHE", "kEECDH", "ECDH"} {
		m[a] = cipherAlias{includes: []string{catANULL, cat3DES}}
	}
	m["EDH"], m["EECDH"], m["ECDSA"] = m["DHE"], m["ECDHE"], m["aECDSA"]
	for _, a := range []string{"AES", "AESGCM", "AES128", "AES256", "AESCCM", "AESCCM8", "CAMELLIA", "CAMELLIA128",
		"CAMELLIA256", "ARIA", "ARIA128", "ARIA256", "CHACHA20", "SHA256", "SHA384", "TLSv1.2", "AEAD"} {
		m[a] = cipherAlias{includes: broad}
	}
	return m
}

// suiteCategories classifies one cipher suite by its OpenSSL name ("ECDHE-RSA-AES128-GCM-
// SHA256"); names without a key-exchange prefix use RSA key exchange.
func suiteCategories(name string) []string {
	n := strings.ToUpper(name)
	var cats []string
	add := func(c string) { cats = append(cats, c) }
	switch {
	case strings.Contains(n, "NULL"):
		add(catNULL)
	case strings.HasPrefix(n, "ADH-") || strings.HasPrefix(n, "AECDH-"):
		add(catANULL)
	}
	if strings.Contains(n, "RC4") {
		add(catRC4)
	}
	if strings.HasPrefix(n, "EXP") || strings.Contains(n, "-EXP") {
		add(catExport)
	}
	switch {
	case strings.Contains(n, "DES-CBC3") || strings.Contains(n, "3DES"):
		add(cat3DES)
	case strings.Contains(n, "DES"):
		add(catDES)
	}
	if strings.HasSuffix(n, "-MD5") {
		add(catMD5)
	}
	pfs := false
	for _, p := range []string{"ECDHE-", "DHE-", "EDH-", "TLS_", "ADH-", "AECDH-"} {
		if strings.HasPrefix(n, p) {
			pfs = true
		}
	}
	if !pfs {
		add(catRSA)
	}
	return cats
}

// cipherReport is what a cipher string enables.
type cipherReport struct {
	// weak are the weak categories enabled.
	weak []string
	// nonPFS: suites with RSA key exchange (no forward secrecy) remain.
	nonPFS bool
	// seclevel0: @SECLEVEL=0 lets OpenSSL 3 negotiate TLS 1.0/1.1 and SHA-1 again.
	seclevel0 bool
}

// analyzeCiphers evaluates an ssl_ciphers value. It does not run OpenSSL: it knows which
// categories each alias and suite name may select; "!" (and "-") removes what the negated
// alias defines; "A+B" selects what both select.
func analyzeCiphers(spec string) cipherReport {
	aliases := cipherAliases()
	var r cipherReport
	enabled := map[string]bool{}
	negated := map[string]bool{}
	tokens := strings.FieldsFunc(spec, func(c rune) bool { return c == ':' || c == ',' || c == ' ' })
	for _, t := range tokens {
		if level, ok := strings.CutPrefix(t, "@SECLEVEL="); ok {
			if strings.TrimSpace(level) == "0" {
				r.seclevel0 = true
			}
			continue
		}
		if strings.HasPrefix(t, "@") {
			continue
		}
		if strings.HasPrefix(t, "!") || strings.HasPrefix(t, "-") {
			parts := strings.Split(t[1:], "+")
			if len(parts) == 1 {
				if a, ok := aliases[parts[0]]; ok && a.defines != "" {
					negated[a.defines] = true
				}
			}
			continue
		}
		t = strings.TrimPrefix(t, "+")
		var cats []string
		for i, part := range strings.Split(t, "+") {
			var pc []string
			if a, ok := aliases[part]; ok {
				pc = a.includes
			} else if strings.Contains(part, "-") || strings.Contains(part, "_") {
				pc = suiteCategories(part)
			}
			if i == 0 {
				cats = slices.Clone(pc)
				continue
			}
			cats = slices.DeleteFunc(cats, func(c string) bool { return !slices.Contains(pc, c) })
		}
		for _, c := range cats {
			enabled[c] = true
		}
	}
	for _, c := range weakCategories() {
		if c != catSeclevel0 && enabled[c] && !negated[c] {
			r.weak = append(r.weak, c)
		}
	}
	if r.seclevel0 {
		r.weak = append(r.weak, catSeclevel0)
	}
	r.nonPFS = enabled[catRSA] && !negated[catRSA]
	return r
}

// cipherCache analyzes each distinct cipher string once.
type cipherCache map[string]cipherReport

func (c cipherCache) analyze(spec string) cipherReport {
	r, ok := c[spec]
	if !ok {
		r = analyzeCiphers(spec)
		c[spec] = r
	}
	return r
}

// effectiveCiphers returns a TLS server's ssl_ciphers and whether it is the default.
func effectiveCiphers(s *Server) (string, bool) {
	if d := lookup(s.Block, "ssl_ciphers"); d != nil {
		return d.Arg(0), false
	}
	return defaultCiphers, true
}
