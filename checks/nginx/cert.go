package nginx

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// maxCertFile bounds a certificate file read.
const maxCertFile = 1 << 20

// parseCertificates returns every certificate of a PEM bundle (the server certificate and
// its chain, as ssl_certificate files hold them).
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %v: %w", err, checks.ErrParse)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate found: %w", checks.ErrParse)
	}
	return out, nil
}

// readCertificates reads an ssl_certificate value: a file (public data, so it may be read)
// or an inline "data:" certificate.
func readCertificates(fsys host.FS, value string) ([]*x509.Certificate, error) {
	if inline, ok := strings.CutPrefix(value, "data:"); ok {
		return parseCertificates([]byte(inline))
	}
	data, err := host.ReadFileLimit(fsys, value, maxCertFile)
	if err != nil {
		return nil, err
	}
	return parseCertificates(data)
}

// pathValue reports whether an ssl_certificate(_key) value names a file the agent can
// look at: not inline data, not an engine key, not built from variables.
func pathValue(v string) bool {
	return v != "" && !strings.HasPrefix(v, "data:") && !strings.HasPrefix(v, "engine:") && !strings.Contains(v, "$")
}
