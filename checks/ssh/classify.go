package ssh

import "strings"

// Grade is the verdict on one algorithm.
type Grade int

// Grades, best first.
const (
	// GradeGood: no known weakness.
	GradeGood Grade = iota
	// GradeLegacy: still safe in practice but superseded (CBC, encrypt-and-MAC, NIST
	// curves, SHA-1 signatures, 2048-bit groups).
	GradeLegacy
	// GradeBroken: practically broken or below current security margins.
	GradeBroken
)

func (g Grade) String() string {
	switch g {
	case GradeLegacy:
		return "legacy"
	case GradeBroken:
		return "broken"
	}
	return "good"
}

// The classification follows ssh-audit's algorithm database where it fails or warns an
// algorithm, with two deliberate differences explained in the catalog: NIST curves (which
// ssh-audit fails) are legacy here, as CIS accepts them, and umac-64 (which ssh-audit only
// warns about for its 64-bit tag) is broken here, as CIS lists it among the weak MACs.

// cipherGrades grades the ciphers OpenSSH has shipped.
var cipherGrades = map[string]Grade{
	"chacha20-poly1305@openssh.com": GradeGood,
	"aes128-gcm@openssh.com":        GradeGood,
	"aes256-gcm@openssh.com":        GradeGood,
	"aes128-ctr":                    GradeGood,
	"aes192-ctr":                    GradeGood,
	"aes256-ctr":                    GradeGood,
	"aes128-cbc":                    GradeLegacy,
	"aes192-cbc":                    GradeLegacy,
	"aes256-cbc":                    GradeLegacy,
	"3des-cbc":                      GradeBroken,
	"blowfish-cbc":                  GradeBroken,
	"cast128-cbc":                   GradeBroken,
	"arcfour":                       GradeBroken,
	"arcfour128":                    GradeBroken,
	"arcfour256":                    GradeBroken,
	"rijndael-cbc@lysator.liu.se":   GradeBroken,
	"des-cbc":                       GradeBroken,
	"none":                          GradeBroken,
}

// macGrades grades the MACs OpenSSH has shipped.
var macGrades = map[string]Grade{
	"hmac-sha2-256-etm@openssh.com":  GradeGood,
	"hmac-sha2-512-etm@openssh.com":  GradeGood,
	"umac-128-etm@openssh.com":       GradeGood,
	"hmac-sha2-256":                  GradeLegacy,
	"hmac-sha2-512":                  GradeLegacy,
	"umac-128@openssh.com":           GradeLegacy,
	"hmac-sha1":                      GradeBroken,
	"hmac-sha1-96":                   GradeBroken,
	"hmac-sha1-etm@openssh.com":      GradeBroken,
	"hmac-sha1-96-etm@openssh.com":   GradeBroken,
	"hmac-md5":                       GradeBroken,
	"hmac-md5-96":                    GradeBroken,
	"hmac-md5-etm@openssh.com":       GradeBroken,
	"hmac-md5-96-etm@openssh.com":    GradeBroken,
	"umac-64@openssh.com":            GradeBroken,
	"umac-64-etm@openssh.com":        GradeBroken,
	"hmac-ripemd160":                 GradeBroken,
	"hmac-ripemd160@openssh.com":     GradeBroken,
	"hmac-ripemd160-etm@openssh.com": GradeBroken,
	"none":                           GradeBroken,
}

// kexGrades grades the key exchange methods OpenSSH has shipped.
var kexGrades = map[string]Grade{
	"mlkem768x25519-sha256":                  GradeGood,
	"sntrup761x25519-sha512":                 GradeGood,
	"sntrup761x25519-sha512@openssh.com":     GradeGood,
	"curve25519-sha256":                      GradeGood,
	"curve25519-sha256@libssh.org":           GradeGood,
	"diffie-hellman-group16-sha512":          GradeGood,
	"diffie-hellman-group18-sha512":          GradeGood,
	"diffie-hellman-group-exchange-sha256":   GradeGood,
	"diffie-hellman-group14-sha256":          GradeLegacy,
	"ecdh-sha2-nistp256":                     GradeLegacy,
	"ecdh-sha2-nistp384":                     GradeLegacy,
	"ecdh-sha2-nistp521":                     GradeLegacy,
	"diffie-hellman-group1-sha1":             GradeBroken,
	"diffie-hellman-group14-sha1":            GradeBroken,
	"diffie-hellman-group-exchange-sha1":     GradeBroken,
	"sntrup4591761x25519-sha512@tinyssh.org": GradeBroken,
}

// keyAlgGrades grades host key and user key signature algorithms.
var keyAlgGrades = map[string]Grade{
	"ssh-ed25519":                                 GradeGood,
	"ssh-ed25519-cert-v01@openssh.com":            GradeGood,
	"sk-ssh-ed25519@openssh.com":                  GradeGood,
	"sk-ssh-ed25519-cert-v01@openssh.com":         GradeGood,
	"rsa-sha2-256":                                GradeGood,
	"rsa-sha2-512":                                GradeGood,
	"rsa-sha2-256-cert-v01@openssh.com":           GradeGood,
	"rsa-sha2-512-cert-v01@openssh.com":           GradeGood,
	"ecdsa-sha2-nistp256":                         GradeLegacy,
	"ecdsa-sha2-nistp384":                         GradeLegacy,
	"ecdsa-sha2-nistp521":                         GradeLegacy,
	"ecdsa-sha2-nistp256-cert-v01@openssh.com":    GradeLegacy,
	"ecdsa-sha2-nistp384-cert-v01@openssh.com":    GradeLegacy,
	"ecdsa-sha2-nistp521-cert-v01@openssh.com":    GradeLegacy,
	"sk-ecdsa-sha2-nistp256@openssh.com":          GradeLegacy,
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com": GradeLegacy,
	"webauthn-sk-ecdsa-sha2-nistp256@openssh.com": GradeLegacy,
	"ssh-rsa":                      GradeLegacy,
	"ssh-rsa-cert-v01@openssh.com": GradeLegacy,
	"ssh-dss":                      GradeBroken,
	"ssh-dss-cert-v01@openssh.com": GradeBroken,
}

// grade returns an algorithm's grade; names missing from the table (vendor additions,
// GSSAPI methods) are judged by their hash or mode.
func grade(table map[string]Grade, name string) Grade {
	if g, ok := table[name]; ok {
		return g
	}
	switch {
	case strings.Contains(name, "sha1"), strings.Contains(name, "md5"), strings.Contains(name, "arcfour"),
		strings.Contains(name, "3des"), strings.Contains(name, "des-"):
		return GradeBroken
	case strings.HasSuffix(name, "-cbc"):
		return GradeLegacy
	}
	return GradeGood
}

// graded splits a list into broken and legacy names.
func graded(table map[string]Grade, names []string) (broken, legacy []string) {
	for _, n := range names {
		switch grade(table, n) {
		case GradeBroken:
			broken = append(broken, n)
		case GradeLegacy:
			legacy = append(legacy, n)
		}
	}
	return broken, legacy
}

// isCBC reports whether a cipher uses CBC mode.
func isCBC(name string) bool {
	return strings.HasSuffix(name, "-cbc") || name == "rijndael-cbc@lysator.liu.se"
}

// isETM reports whether a MAC is encrypt-then-MAC.
func isETM(name string) bool { return strings.HasSuffix(name, "-etm@openssh.com") }

// isPQ reports whether a key exchange method is a post-quantum hybrid.
func isPQ(name string) bool {
	return strings.HasPrefix(name, "mlkem") || strings.HasPrefix(name, "sntrup")
}
