package ssh

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"

	"github.com/securecodehq/server-audit/checks"
)

// PublicKey is what a public key file reveals: its algorithm and size.
type PublicKey struct {
	// Type is the key's algorithm name ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256").
	Type string
	// Bits is the key size: the RSA modulus or DSA prime length, the curve size.
	Bits int
	// Cert is true for an OpenSSH certificate.
	Cert bool
}

// Family is the key type without certificate suffix: "rsa", "dsa", "ecdsa", "ed25519",
// "sk-ecdsa", "sk-ed25519" or "other".
func (k PublicKey) Family() string {
	t := strings.TrimSuffix(k.Type, "-cert-v01@openssh.com")
	switch {
	case t == "ssh-rsa":
		return "rsa"
	case t == "ssh-dss":
		return "dsa"
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		return "ecdsa"
	case t == "ssh-ed25519":
		return "ed25519"
	case strings.HasPrefix(t, "sk-ecdsa-"):
		return "sk-ecdsa"
	case strings.HasPrefix(t, "sk-ssh-ed25519"):
		return "sk-ed25519"
	}
	return "other"
}

// maxPublicKeyLine bounds the public key line accepted.
const maxPublicKeyLine = 64 << 10

// ParsePublicKey parses an OpenSSH public key line ("type base64 [comment]") and decodes the
// key blob to learn its size. The blob's type must agree with the line's.
func ParsePublicKey(data []byte) (PublicKey, error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if len(line) > maxPublicKeyLine {
		return PublicKey{}, fmt.Errorf("public key line too long: %w", checks.ErrParse)
	}
	fields := strings.Fields(string(line))
	if len(fields) < 2 {
		return PublicKey{}, fmt.Errorf("not an OpenSSH public key line: %w", checks.ErrParse)
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return PublicKey{}, fmt.Errorf("public key is not base64: %w", checks.ErrParse)
	}
	k, err := parseKeyBlob(blob)
	if err != nil {
		return PublicKey{}, err
	}
	if k.Type != fields[0] {
		return PublicKey{}, fmt.Errorf("public key line says %q but the key is %q: %w", fields[0], k.Type, checks.ErrParse)
	}
	return k, nil
}

// wire reads the SSH wire encoding (RFC 4251 section 5).
type wire struct{ b []byte }

func (w *wire) bytes() ([]byte, bool) {
	if len(w.b) < 4 {
		return nil, false
	}
	n := binary.BigEndian.Uint32(w.b)
	if uint64(n) > uint64(len(w.b)-4) {
		return nil, false
	}
	out := w.b[4 : 4+n]
	w.b = w.b[4+n:]
	return out, true
}

func (w *wire) string() (string, bool) {
	b, ok := w.bytes()
	return string(b), ok
}

// mpintBits is the bit length of an mpint (two's complement; sizes are of positive values).
func mpintBits(b []byte) int {
	return new(big.Int).SetBytes(b).BitLen()
}

// curveBits maps the ECDSA curve identifiers to their size.
var curveBits = map[string]int{"nistp256": 256, "nistp384": 384, "nistp521": 521}

// parseKeyBlob decodes a public key blob, or a certificate blob, whose key fields follow a
// nonce.
func parseKeyBlob(blob []byte) (PublicKey, error) {
	bad := func(what string) (PublicKey, error) {
		return PublicKey{}, fmt.Errorf("malformed %s in public key blob: %w", what, checks.ErrParse)
	}
	w := &wire{b: blob}
	typ, ok := w.string()
	if !ok || typ == "" {
		return bad("type")
	}
	k := PublicKey{Type: typ}
	base := typ
	if strings.HasSuffix(typ, "-cert-v01@openssh.com") {
		k.Cert = true
		base = strings.TrimSuffix(typ, "-cert-v01@openssh.com")
		if _, ok := w.bytes(); !ok {
			return bad("certificate nonce")
		}
	}
	switch {
	case base == "ssh-rsa":
		e, ok1 := w.bytes()
		n, ok2 := w.bytes()
		if !ok1 || !ok2 || len(e) == 0 || len(n) == 0 {
			return bad("RSA key")
		}
		k.Bits = mpintBits(n)
	case base == "ssh-dss":
		p, ok := w.bytes()
		for range 3 {
			if _, more := w.bytes(); !more {
				ok = false
			}
		}
		if !ok || len(p) == 0 {
			return bad("DSA key")
		}
		k.Bits = mpintBits(p)
	case strings.HasPrefix(base, "ecdsa-sha2-"), strings.HasPrefix(base, "sk-ecdsa-sha2-"):
		curve, ok1 := w.string()
		point, ok2 := w.bytes()
		bits, known := curveBits[curve]
		if !ok1 || !ok2 || !known || len(point) == 0 || !strings.Contains(base, curve) {
			return bad("ECDSA key")
		}
		k.Bits = bits
	case base == "ssh-ed25519", base == "sk-ssh-ed25519@openssh.com":
		pk, ok := w.bytes()
		if !ok || len(pk) != 32 {
			return bad("Ed25519 key")
		}
		k.Bits = 256
	default:
		return PublicKey{Type: typ, Cert: k.Cert}, nil
	}
	return k, nil
}
