package ssh

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// FuzzParseSSHDConfig feeds arbitrary sshd_config text (with an included file) to the
// parser: it must return a configuration or an error, never panic, and a configuration it
// accepts has every key the checks read.
func FuzzParseSSHDConfig(f *testing.F) {
	for _, seed := range []string{
		"PermitRootLogin no\nPort 22\n",
		"Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n",
		"Match User sa-*,!root Address 198.51.100.0/24\n  X11Forwarding no\nMatch All\n  Ciphers -*cbc\n",
		"ciphers=+aes128-cbc\nMACs ^hmac-sha2-512\nKexAlgorithms -ecdh-*\nHostKeyAlgorithms ssh-ed25519*\n",
		"MaxStartups 10:30:60\nMaxStartups 5\nLoginGraceTime 1m30s\n",
		`AllowUsers "a b" c\ d 'e'` + "\n",
		"Match\n", "Include\n", "\"unterminated\n", "Port=\n", "=\n", "Match Address !10.0.0.0/8,*\n",
		"PermitUserEnvironment LANG,LC_*\nLogLevel SILENT\nSubsystem sftp internal-sftp\n",
	} {
		f.Add(seed, "PasswordAuthentication yes\nMatch LocalPort 22\n")
	}
	f.Fuzz(func(t *testing.T, config, dropin string) {
		files := map[string]string{
			"/etc/ssh/sshd_config":                config,
			"/etc/ssh/sshd_config.d/50-fuzz.conf": dropin,
			"/etc/services":                       "ssh 22/tcp\n",
		}
		p, err := parseFiles(t, files, Version{Major: 9, Minor: 2})
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("error that is not a parse error: %v", err)
			}
			return
		}
		for _, k := range checkedKeys {
			if k != "allowusers" && k != "denyusers" && k != "allowgroups" && k != "denygroups" && len(p.values[k]) == 0 {
				t.Fatalf("accepted configuration lacks %s", k)
			}
		}
	})
}

// FuzzSSHDTOutput feeds arbitrary text to the `sshd -T` output parser and then to every
// configuration check: malformed output is an error, never a panic.
func FuzzSSHDTOutput(f *testing.F) {
	if data, err := os.ReadFile("testdata/fixtures/live-hardened/commands/sshd-T.txt"); err == nil {
		f.Add(data)
	}
	if data, err := os.ReadFile("testdata/fixtures/live-weak/commands/sshd-T.txt"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("port 22\npermitrootlogin yes\nciphers \nmaxstartups 1:2\nmaxauthtries x\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, out []byte) {
		values, err := parseSSHDT(out)
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("error that is not a parse error: %v", err)
			}
			return
		}
		s := &state{installed: true, version: Version{Major: 9, Minor: 2}}
		cfg := &Config{Source: SourceSSHDT, Probe: defaultProbe, values: values}
		for _, eval := range []func(*state, *Config) checks.Result{
			permitRootLogin, passwordAuthentication, permitEmptyPasswords, hostbasedAuthentication, maxAuthTries,
			loginGraceTime, maxStartups, idleTimeout, forwarding, permitUserEnvironment, logLevel, accessRestriction,
			ciphers, macs, kex, hostKeyAlgorithms, terrapin,
		} {
			res := eval(s, cfg)
			if !res.Status.Valid() {
				t.Fatalf("invalid status %q", res.Status)
			}
		}
	})
}

// FuzzPublicKey feeds arbitrary public key lines and blobs to the key parser.
func FuzzPublicKey(f *testing.F) {
	for _, p := range []string{
		"testdata/fixtures/live-hardened/root/etc/ssh/ssh_host_ed25519_key.pub",
		"testdata/fixtures/live-weak/root/etc/ssh/ssh_host_dsa_key.pub",
		"testdata/fixtures/offline-parsed/root/etc/ssh/ssh_host_ecdsa_key.pub",
	} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(keyLine("ssh-rsa-cert-v01@openssh.com", []byte("n"), []byte{1, 0, 1}, []byte{0, 0x80})))
	f.Add([]byte("ssh-ed25519 AAAA"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePublicKey(data)
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("error that is not a parse error: %v", err)
			}
			return
		}
		if k.Bits < 0 || !slices.Contains(keyFamilies, k.Family()) {
			t.Fatalf("bad key %+v", k)
		}
		_, _ = parseKeyBlob(data)
	})
}

// TestCatalogDeclaresAlgorithms keeps the catalog's enum values in step with the grade
// tables, so that every graded algorithm is sent by name rather than as "other".
func TestCatalogDeclaresAlgorithms(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, fact string
		want     []string
	}{
		{"ssh.ciphers", "ciphers", enumValues(cipherGrades)},
		{"ssh.macs", "macs", enumValues(macGrades)},
		{"ssh.kex", "kexalgorithms", enumValues(kexGrades)},
		{"ssh.host-key-algorithms", "hostkey_algorithms", enumValues(keyAlgGrades)},
		{"ssh.host-keys", "host_key_types", keyFamilies},
	} {
		e, ok := cat.Lookup(tc.id)
		if !ok {
			t.Fatalf("%s missing from the catalog", tc.id)
		}
		got := slices.Clone(e.Facts[tc.fact].Values)
		want := slices.Clone(tc.want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s declares %q, the tables have %q", tc.id, tc.fact, got, want)
		}
	}
}
