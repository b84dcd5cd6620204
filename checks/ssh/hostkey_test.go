package ssh

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/securecodehq/server-audit/checks"
)

// sshString encodes an SSH wire string.
func sshString(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...)
}

func keyLine(typ string, fields ...[]byte) string {
	blob := sshString([]byte(typ))
	for _, f := range fields {
		blob = append(blob, sshString(f)...)
	}
	return typ + " " + base64.StdEncoding.EncodeToString(blob) + " comment"
}

func TestParsePublicKeyFiles(t *testing.T) {
	for _, tc := range []struct {
		file, typ, family string
		bits              int
	}{
		{"testdata/fixtures/live-hardened/root/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519", "ed25519", 256},
		{"testdata/fixtures/live-hardened/root/etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa", "rsa", 4096},
		{"testdata/fixtures/cloud-init-dropin/root/etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa", "rsa", 2048},
		{"testdata/fixtures/live-weak/root/etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa", "rsa", 1024},
		{"testdata/fixtures/live-weak/root/etc/ssh/ssh_host_dsa_key.pub", "ssh-dss", "dsa", 1024},
		{"testdata/fixtures/offline-parsed/root/etc/ssh/ssh_host_ecdsa_key.pub", "ecdsa-sha2-nistp256", "ecdsa", 256},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParsePublicKey(data)
		if err != nil || k.Type != tc.typ || k.Bits != tc.bits || k.Family() != tc.family || k.Cert {
			t.Errorf("%s: %+v (family %s), %v; want %s %d bits", tc.file, k, k.Family(), err, tc.typ, tc.bits)
		}
	}
}

func TestParsePublicKeyBlobs(t *testing.T) {
	pk := make([]byte, 32)
	cert, err := ParsePublicKey([]byte(keyLine("ssh-ed25519-cert-v01@openssh.com", []byte("nonce"), pk)))
	if err != nil || !cert.Cert || cert.Bits != 256 || cert.Family() != "ed25519" {
		t.Errorf("certificate: %+v, %v", cert, err)
	}
	n := make([]byte, 257)
	n[1] = 0x80 // 2048-bit modulus with a leading zero byte (positive mpint)
	if k, err := ParsePublicKey([]byte(keyLine("ssh-rsa", []byte{1, 0, 1}, n))); err != nil || k.Bits != 2048 {
		t.Errorf("rsa mpint: %+v, %v", k, err)
	}
	if k, err := ParsePublicKey([]byte(keyLine("ssh-future-key", []byte("x")))); err != nil || k.Family() != "other" {
		t.Errorf("unknown type: %+v, %v", k, err)
	}
	for name, line := range map[string]string{
		"one field":         "ssh-ed25519",
		"bad base64":        "ssh-ed25519 !!!notbase64",
		"type mismatch":     keyLine("ssh-ed25519", pk)[len("ssh-ed25519"):] + "x",
		"line lies":         "ssh-rsa " + keyLine("ssh-ed25519", pk)[len("ssh-ed25519 "):],
		"short ed25519":     keyLine("ssh-ed25519", pk[:10]),
		"truncated rsa":     keyLine("ssh-rsa", []byte{1, 0, 1}),
		"unknown curve":     keyLine("ecdsa-sha2-nistp256", []byte("nistp999"), []byte{4, 1}),
		"curve mismatch":    keyLine("ecdsa-sha2-nistp256", []byte("nistp384"), []byte{4, 1}),
		"cert without body": keyLine("ssh-rsa-cert-v01@openssh.com"),
		"empty":             "",
		"huge length":       "ssh-rsa " + base64.StdEncoding.EncodeToString([]byte{0xff, 0xff, 0xff, 0xff, 'x'}),
	} {
		if _, err := ParsePublicKey([]byte(line)); !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: err = %v, want a parse error", name, err)
		}
	}
}

func TestVersions(t *testing.T) {
	for in, want := range map[string]string{
		"OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026": "9.2p1",
		"OpenSSH_9.6, OpenSSL 3.0.13":                                 "9.6",
		"sshd: illegal option -- V\nOpenSSH_8.4p1 Debian-5, OpenSSL":  "8.4p1",
	} {
		v, ok := parseBanner([]byte(in))
		if !ok || v.String() != want {
			t.Errorf("parseBanner(%q) = %s, %v; want %s", in, v, ok, want)
		}
	}
	if _, ok := parseBanner([]byte("usage: sshd [-46DdeGiqTtV]")); ok {
		t.Error("parseBanner found a version in a banner without one")
	}
	status := "Package: openssh-client\nStatus: install ok installed\nVersion: 1:9.2p1-2\n\n" +
		"Package: openssh-server\nStatus: deinstall ok config-files\nVersion: 1:8.4p1-5\n\n" +
		"Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.6p1-3ubuntu13.5\n"
	if v, ok := dpkgVersion([]byte(status), "openssh-server"); !ok || v.Short() != "9.6" || v.Package != "1:9.6p1-3ubuntu13.5" {
		t.Errorf("dpkgVersion = %+v, %v", v, ok)
	}
	if v, ok := apkVersion([]byte("P:openssh-client\nV:9.7_p1-r3\n\nP:openssh-server\nV:9.7_p1-r4\n"), "openssh-server"); !ok || v.String() != "9.7p1" {
		t.Errorf("apkVersion = %+v, %v", v, ok)
	}
	if !(Version{Major: 9, Minor: 6}).AtLeast(9, 6) || (Version{Major: 8, Minor: 9}).AtLeast(9, 0) || !(Version{Major: 10, Minor: 0}).AtLeast(9, 9) {
		t.Error("AtLeast")
	}
}

func TestParseSSHDT(t *testing.T) {
	v, err := parseSSHDT([]byte("port 22\nport 2222\npermitrootlogin without-password\nciphers aes128-ctr\npubkeyacceptedkeytypes ssh-ed25519\nbanner none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(v["port"]) != 2 || v["pubkeyacceptedalgorithms"][0] != "ssh-ed25519" || v["banner"][0] != "none" {
		t.Errorf("parseSSHDT = %v", v)
	}
	for name, out := range map[string]string{
		"empty":       "",
		"not sshd -T": "usage: sshd [-46DdeGiqTtV]\n",
		"missing key": "port 22\nciphers aes128-ctr\n",
		"binary":      "port 22\xff\n",
	} {
		if _, err := parseSSHDT([]byte(out)); !errors.Is(err, checks.ErrParse) {
			t.Errorf("%s: err = %v, want a parse error", name, err)
		}
	}
}

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		table map[string]Grade
		name  string
		want  Grade
	}{
		{cipherGrades, "3des-cbc", GradeBroken}, {cipherGrades, "aes256-cbc", GradeLegacy}, {cipherGrades, "aes256-gcm@openssh.com", GradeGood},
		{macGrades, "umac-64-etm@openssh.com", GradeBroken}, {macGrades, "hmac-sha2-256", GradeLegacy}, {macGrades, "hmac-sha2-512-etm@openssh.com", GradeGood},
		{kexGrades, "diffie-hellman-group14-sha1", GradeBroken}, {kexGrades, "ecdh-sha2-nistp256", GradeLegacy}, {kexGrades, "mlkem768x25519-sha256", GradeGood},
		{keyAlgGrades, "ssh-dss", GradeBroken}, {keyAlgGrades, "ssh-rsa", GradeLegacy}, {keyAlgGrades, "rsa-sha2-512", GradeGood},
		{kexGrades, "gss-group1-sha1-toWM5Slw5Ew8Mqkay+al2g==", GradeBroken}, {cipherGrades, "twofish-cbc", GradeLegacy},
	} {
		if got := grade(tc.table, tc.name); got != tc.want {
			t.Errorf("grade(%s) = %s, want %s", tc.name, got, tc.want)
		}
	}
	if enumName("chacha20-poly1305@openssh.com") != "chacha20-poly1305_at_openssh.com" {
		t.Error("enumName")
	}
}
