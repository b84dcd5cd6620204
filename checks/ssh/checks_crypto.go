package ssh

import (
	"slices"
	"sort"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// enumName writes an algorithm name in the enum grammar of facts, which has no "@":
// "chacha20-poly1305@openssh.com" is sent as "chacha20-poly1305_at_openssh.com".
func enumName(name string) string { return strings.ReplaceAll(name, "@", "_at_") }

func enumNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, enumName(n))
	}
	return out
}

// enumValues returns the fact values of a grade table, as the catalog declares them: every known
// algorithm in enum form, sorted.
func enumValues(table map[string]Grade) []string {
	var out []string
	for n := range table {
		out = append(out, enumName(n))
	}
	sort.Strings(out)
	return out
}

// algorithmResult judges one algorithm list: broken names fail at the check's severity,
// legacy ones at legacySev.
func algorithmResult(what, key string, names []string, table map[string]Grade, legacySev catalog.Severity) checks.Result {
	broken, legacy := graded(table, names)
	var res checks.Result
	switch {
	case len(broken) > 0:
		res = checks.Fail("%s enabled: %s", plural(len(broken), "weak "+what), strings.Join(broken, ", "))
		if len(legacy) > 0 {
			res = res.Detail("legacy %ss also enabled: %s", what, strings.Join(legacy, ", "))
		}
	case len(legacy) > 0:
		res = checks.Fail("%s enabled: %s", plural(len(legacy), "legacy "+what), strings.Join(legacy, ", ")).WithSeverity(legacySev)
	default:
		res = checks.Pass("every enabled %s is current (%d enabled)", what, len(names))
	}
	return res.Detail("%s %s", key, strings.Join(names, ",")).
		Enums(key, enumNames(names)).
		Int("broken_"+key, int64(len(broken))).
		Int("legacy_"+key, int64(len(legacy)))
}

// ciphers: broken ciphers (3DES, RC4, Blowfish, CAST, none) fail; CBC modes are legacy.
func ciphers(s *state, c *Config) checks.Result {
	return algorithmResult("cipher", "ciphers", c.List("ciphers"), cipherGrades, catalog.SeverityMedium).
		Version("openssh_version", s.version.Short())
}

// macs: MD5, SHA-1, RIPEMD-160 and 64-bit UMAC fail; encrypt-and-MAC SHA-2 is legacy.
func macs(s *state, c *Config) checks.Result {
	return algorithmResult("MAC", "macs", c.List("macs"), macGrades, catalog.SeverityLow).
		Version("openssh_version", s.version.Short())
}

// kex: SHA-1 key exchanges fail; NIST curves and the 2048-bit group are legacy.
func kex(s *state, c *Config) checks.Result {
	names := c.List("kexalgorithms")
	pq := slices.ContainsFunc(names, isPQ)
	res := algorithmResult("key exchange", "kexalgorithms", names, kexGrades, catalog.SeverityLow)
	if !pq && s.version.AtLeast(9, 0) {
		res = res.Detail("no post-quantum hybrid key exchange (mlkem768x25519-sha256, sntrup761x25519-sha512) is enabled although this OpenSSH supports one")
	}
	return res.Bool("pq_kex", pq).Version("openssh_version", s.version.Short())
}

// keyAlgorithmFamily is the host key type an algorithm signs with ("" when unknown).
func keyAlgorithmFamily(alg string) string {
	base := strings.TrimSuffix(alg, "-cert-v01@openssh.com")
	switch {
	case base == "ssh-rsa", base == "rsa-sha2-256", base == "rsa-sha2-512":
		return "rsa"
	case base == "ssh-dss":
		return "dsa"
	case strings.HasPrefix(base, "ecdsa-sha2-"):
		return base // the curve matters: one key offers one curve
	case base == "ssh-ed25519":
		return "ed25519"
	}
	return ""
}

// hostKeyFamilies returns the algorithm families of the host keys sshd uses, as far as the
// public key files tell; ok is false when no in-use key could be identified.
func hostKeyFamilies(s *state, c *Config) (map[string]bool, bool) {
	inUse := map[string]bool{}
	for _, p := range c.All("hostkey") {
		inUse[p] = true
	}
	fam := map[string]bool{}
	for _, k := range s.keys {
		if k.err != nil || !inUse[k.private] {
			continue
		}
		switch f := k.key.Family(); f {
		case "ecdsa":
			fam[strings.TrimSuffix(k.key.Type, "-cert-v01@openssh.com")] = true
		default:
			fam[f] = true
		}
	}
	return fam, len(fam) > 0
}

// hostKeyAlgorithms: the server's signature algorithms (only those it has a key for are
// offered) and the user key algorithms it accepts.
func hostKeyAlgorithms(s *state, c *Config) checks.Result {
	configured := c.List("hostkeyalgorithms")
	fam, known := hostKeyFamilies(s, c)
	certs := c.Has("hostcertificate")
	offered := configured
	if known {
		offered = nil
		for _, a := range configured {
			f := keyAlgorithmFamily(a)
			if f != "" && fam[f] && (certs || !strings.HasSuffix(a, "-cert-v01@openssh.com")) {
				offered = append(offered, a)
			}
		}
	}
	broken, legacy := graded(keyAlgGrades, offered)
	pub := c.List("pubkeyacceptedalgorithms")
	pubDSS := slices.ContainsFunc(pub, func(a string) bool { return keyAlgorithmFamily(a) == "dsa" })
	pubRSA1 := slices.ContainsFunc(pub, func(a string) bool { return strings.HasPrefix(a, "ssh-rsa") })
	var res checks.Result
	switch {
	case len(broken) > 0 || pubDSS:
		res = checks.Fail("DSA (ssh-dss) signatures are enabled")
	case len(legacy) > 0 || pubRSA1:
		var what []string
		if len(legacy) > 0 {
			what = append(what, "host key algorithm(s) "+strings.Join(legacy, ", "))
		}
		if pubRSA1 {
			what = append(what, "RSA/SHA-1 (ssh-rsa) user keys accepted")
		}
		res = checks.Fail("legacy signature algorithms enabled: %s", strings.Join(what, "; ")).WithSeverity(catalog.SeverityLow)
	default:
		res = checks.Pass("the host signs with current algorithms only (%s) and refuses DSA and RSA/SHA-1 user keys", strings.Join(offered, ", "))
	}
	if !known {
		res = res.Detail("the host key types could not be read from /etc/ssh/ssh_host_*_key.pub; judged on the configured list")
	}
	return res.Detail("HostKeyAlgorithms %s", strings.Join(configured, ",")).
		Detail("PubkeyAcceptedAlgorithms %s", strings.Join(pub, ",")).
		Enums("hostkey_algorithms", enumNames(offered)).
		Int("broken_hostkey_algorithms", int64(len(broken))).
		Int("legacy_hostkey_algorithms", int64(len(legacy))).
		Bool("pubkey_ssh_rsa", pubRSA1).Bool("pubkey_ssh_dss", pubDSS).
		Version("openssh_version", s.version.Short())
}

// strictKex tells whether sshd implements strict key exchange (the Terrapin fix) and how
// that was established: "version" (OpenSSH 9.6 or later), "binary" (the marker of the fix
// is in the sshd binary, or proven absent), "assumed" (nothing to look at: assumed absent).
func strictKex(s *state) (bool, string) {
	switch {
	case s.version.AtLeast(9, 6):
		return true, "version"
	case s.buildErr == nil:
		return s.build.strictKex, "binary"
	}
	return false, "assumed"
}

// terrapin: CVE-2023-48795 lets a man in the middle drop messages at the start of the
// encrypted session when ChaCha20-Poly1305, or a CBC cipher with an encrypt-then-MAC MAC,
// is negotiated and the server lacks strict key exchange.
func terrapin(s *state, c *Config) checks.Result {
	strict, evidence := strictKex(s)
	ciphers, macs := c.List("ciphers"), c.List("macs")
	chacha := slices.Contains(ciphers, "chacha20-poly1305@openssh.com")
	cbcEtm := slices.ContainsFunc(ciphers, isCBC) && slices.ContainsFunc(macs, isETM)
	if !strict && evidence == "assumed" && s.version.Source == "default" {
		return checks.Skip(report.ReasonNotFound, "neither the OpenSSH version nor the sshd binary could be read, so strict key exchange support is unknown")
	}
	var res checks.Result
	switch {
	case strict && evidence == "version":
		res = checks.Pass("OpenSSH %s implements strict key exchange, which closes Terrapin", s.version.Short())
	case strict:
		res = checks.Pass("the sshd binary implements strict key exchange (a backported Terrapin fix for OpenSSH %s)", s.version.Short()).
			Detail("found %s in %s", strictKexMarker, s.build.path)
	case !chacha && !cbcEtm:
		res = checks.Pass("no Terrapin-affected cipher mode is enabled, although sshd lacks strict key exchange")
	default:
		var modes []string
		if chacha {
			modes = append(modes, "chacha20-poly1305@openssh.com")
		}
		if cbcEtm {
			modes = append(modes, "a CBC cipher with an encrypt-then-MAC MAC")
		}
		res = checks.Fail("sshd lacks strict key exchange and enables %s: vulnerable to Terrapin (CVE-2023-48795)", strings.Join(modes, " and "))
		if evidence == "binary" {
			res = res.Detail("%s does not contain %s, the marker of the fix", s.build.path, strictKexMarker)
		} else {
			res = res.Detail("the sshd binary could not be read; OpenSSH %s (from %s) predates the upstream fix in 9.6, and a distribution backport could not be confirmed", s.version.Short(), s.version.Source)
		}
	}
	return res.Bool("strict_kex", strict).Enum("strict_kex_evidence", evidence).
		Bool("chacha20_poly1305", chacha).Bool("cbc_etm", cbcEtm).
		Version("openssh_version", s.version.Short())
}
