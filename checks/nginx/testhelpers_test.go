package nginx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks"
)

// treeString renders a configuration tree canonically (name, arguments, file, line, nested
// blocks), for comparing trees from different sources.
func treeString(d *Directive) string {
	var b strings.Builder
	var walk func(*Directive, int)
	walk = func(d *Directive, depth int) {
		for _, c := range d.Block {
			fmt.Fprintf(&b, "%s%q %q @%s:%d", strings.Repeat("  ", depth), c.Name, c.Args, c.File, c.Line)
			if c.IsBlock {
				b.WriteString(" {\n")
				walk(c, depth+1)
				fmt.Fprintf(&b, "%s}\n", strings.Repeat("  ", depth))
			} else {
				b.WriteString("\n")
			}
			if c.parent != d {
				fmt.Fprintf(&b, "%s!! wrong parent\n", strings.Repeat("  ", depth))
			}
		}
	}
	walk(d, 0)
	return b.String()
}

// evalFuncs returns every check of the family with its function.
func evalFuncs() []check {
	var out []check
	for _, c := range checksAt(time.Now) {
		out = append(out, c.(check))
	}
	return out
}

// verdict is the comparable part of a result: everything but details and the source.
func verdict(r checks.Result) string {
	facts := map[string]any{}
	for k, v := range r.Facts {
		if k != "config_source" {
			facts[k] = v
		}
	}
	return fmt.Sprintf("%s/%s/%s %s %v", r.Status, r.Reason, r.Severity, r.Message, facts)
}

// certPEM makes a self-signed ECDSA certificate valid from an hour ago for the given
// number of days (negative: already expired), and its key in PKCS#8 PEM.
func certPEM(t testing.TB, cn string, days int) (certOut, keyOut []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	notBefore := now.Add(-time.Hour)
	notAfter := now.Add(time.Duration(days)*24*time.Hour + time.Hour)
	if days < 0 {
		notBefore = notAfter.Add(-365 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}
