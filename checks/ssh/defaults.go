package ssh

import (
	"errors"
	"slices"
	"strings"
)

// Per-release algorithm tables for the parser fallback. Sources: the OpenSSH release notes
// (https://www.openssh.com/releasenotes.html) of 7.4, 7.6, 7.8, 8.2, 8.5, 8.8, 9.0, 9.9 and
// 10.0, and sshd_config(5) of those releases; the 9.2 tables were checked against
// `ssh -Q` and `sshd -T` of Debian 12's OpenSSH 9.2p1. The releases shipped by supported
// distributions are 7.4 (RHEL 7), 8.0 (RHEL 8), 8.2 (Ubuntu 20.04), 8.4 (Debian 11), 8.7
// (RHEL 9), 8.9 (Ubuntu 22.04), 9.2 (Debian 12), 9.6 (Ubuntu 24.04) and 10.0 (Debian 13).
// RHEL's crypto-policies replace the crypto defaults through an included file or the
// command line; the included file is parsed, the command line is not visible offline.

// versioned is a value that changed over releases: the entry with the highest since that
// is not newer than the running version applies.
type versioned[T any] struct {
	since [2]int
	value T
}

func pick[T any](v Version, table []versioned[T]) T {
	out := table[0].value
	for _, e := range table {
		if v.AtLeast(e.since[0], e.since[1]) {
			out = e.value
		}
	}
	return out
}

func split(list string) []string { return strings.Split(list, ",") }

// Cipher tables.
var (
	cipherUniverse = []versioned[[]string]{
		{[2]int{0, 0}, split("3des-cbc,blowfish-cbc,cast128-cbc,arcfour,arcfour128,arcfour256,aes128-cbc,aes192-cbc,aes256-cbc,rijndael-cbc@lysator.liu.se,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com")},
		// 7.6 removed arcfour, blowfish, CAST and the rijndael alias.
		{[2]int{7, 6}, split("3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com")},
	}
	cipherDefault = []versioned[[]string]{
		{[2]int{0, 0}, split("chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com")},
		// 10.0 prefers AES-GCM over AES-CTR.
		{[2]int{10, 0}, split("chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr")},
	}
)

// MAC tables.
var (
	macUniverse = []versioned[[]string]{
		{[2]int{0, 0}, split("hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,hmac-ripemd160,hmac-ripemd160@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,hmac-ripemd160-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com")},
		// 7.6 removed RIPEMD-160.
		{[2]int{7, 6}, split("hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com")},
	}
	macDefault = []versioned[[]string]{
		{[2]int{0, 0}, split("umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1")},
	}
)

// Key exchange tables.
var (
	kexUniverse = []versioned[[]string]{
		{[2]int{0, 0}, split("diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org")},
		// 8.0 added the experimental sntrup4591761 hybrid.
		{[2]int{8, 0}, split("diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup4591761x25519-sha512@tinyssh.org")},
		// 8.5 replaced it with sntrup761x25519.
		{[2]int{8, 5}, split("diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com")},
		// 9.9 added ML-KEM and the standard sntrup761 name.
		{[2]int{9, 9}, split("diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,mlkem768x25519-sha256")},
	}
	kexDefault = []versioned[[]string]{
		{[2]int{0, 0}, split("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,diffie-hellman-group14-sha1")},
		// 8.2 dropped diffie-hellman-group14-sha1 from the default proposal.
		{[2]int{8, 2}, split("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256")},
		// 8.5 enabled sntrup761x25519 after the ECDH methods.
		{[2]int{8, 5}, split("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,sntrup761x25519-sha512@openssh.com,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256")},
		// 9.0 made the hybrid the first preference.
		{[2]int{9, 0}, split("sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256")},
		// 9.9 added ML-KEM.
		{[2]int{9, 9}, split("sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,mlkem768x25519-sha256,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256")},
		// 10.0 made ML-KEM the first preference and removed finite-field DH from the server's
		// default proposal.
		{[2]int{10, 0}, split("mlkem768x25519-sha256,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521")},
	}
)

// Public key (signature) algorithm tables, for HostKeyAlgorithms and
// PubkeyAcceptedAlgorithms.
var (
	keyUniverse = []versioned[[]string]{
		{[2]int{0, 0}, split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-rsa-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com")},
		// 7.8 added RSA/SHA-2 certificate signatures.
		{[2]int{7, 8}, split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com")},
		// 8.2 added FIDO security keys (and reordered the table).
		{[2]int{8, 2}, split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com")},
		// 8.3 added WebAuthn signatures.
		{[2]int{8, 3}, split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com")},
		// 10.0 removed DSA.
		{[2]int{10, 0}, split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com")},
	}
	keyDefault = []versioned[[]string]{
		{[2]int{0, 0}, split("ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa")},
		{[2]int{7, 8}, split("ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa")},
		{[2]int{8, 2}, split("ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,ssh-ed25519,sk-ssh-ed25519@openssh.com,rsa-sha2-512,rsa-sha2-256,ssh-rsa")},
		// 8.5 made Ed25519 the first preference.
		{[2]int{8, 5}, split("ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256,ssh-rsa")},
		// 8.8 disabled RSA/SHA-1 signatures by default.
		{[2]int{8, 8}, split("ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256")},
	}
)

// keyShortNames are the key type short names sshkey_type_from_name also accepts
// (case-insensitive) when sshd validates a key algorithm list.
var keyShortNames = []string{"rsa", "dsa", "ecdsa", "ed25519", "ecdsa-sk", "ed25519-sk"}

// algorithms are the algorithm tables and default host keys of one OpenSSH build.
type algorithms struct {
	// ciphers, macs, kex and keys are every algorithm the build supports, in its order.
	ciphers, macs, kex, keys []string
	// def* are the default lists.
	defCiphers, defMACs, defKex, defKeys []string
	// hostKeyDefaults are the HostKey files used when none is configured.
	hostKeyDefaults []string
}

// algorithmsFor returns the tables of version v, adjusted for names the binary shows were
// backported (Debian 12 added the standard "sntrup761x25519-sha512" name to 9.2 and put it
// first in the default proposal, as 9.9 did).
func algorithmsFor(v Version, build buildInfo) algorithms {
	a := algorithms{
		ciphers: pick(v, cipherUniverse), macs: pick(v, macUniverse),
		kex: pick(v, kexUniverse), keys: pick(v, keyUniverse),
		defCiphers: pick(v, cipherDefault), defMACs: pick(v, macDefault),
		defKex: pick(v, kexDefault), defKeys: pick(v, keyDefault),
	}
	const std, legacy = "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"
	if build.names[std] && !slices.Contains(a.kex, std) {
		if i := slices.Index(a.kex, legacy); i >= 0 {
			a.kex = slices.Insert(slices.Clone(a.kex), i, std)
			if j := slices.Index(a.defKex, legacy); j >= 0 {
				a.defKex = slices.Insert(slices.Clone(a.defKex), j, std)
			}
		}
	}
	a.hostKeyDefaults = []string{"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key"}
	return a
}

// errAssemble is the error of an algorithm list sshd cannot assemble.
var errAssemble = errors.New("invalid algorithm list")

// assembleNames turns a configured algorithm list into the effective one, as OpenSSH
// kex_assemble_names does: empty means the defaults, "+list" appends to them, "-list"
// removes matching names, "^list" prepends; other lists replace them. Elements of
// explicit, "+" and "^" lists are patterns expanded against all, the algorithms the build
// supports.
func assembleNames(list string, def, all []string) ([]string, error) {
	if list == "" {
		return slices.Clone(def), nil
	}
	switch list[0] {
	case '+':
		list = strings.Join(namesCat(def, split(list[1:])), ",")
	case '-':
		var out []string
		for _, name := range def {
			if matchPatternList(name, list[1:], false) != 1 {
				out = append(out, name)
			}
		}
		return out, nil
	case '^':
		list = strings.Join(namesCat(split(list[1:]), def), ",")
	}
	var out []string
	for _, cp := range split(list) {
		if strings.HasPrefix(cp, "!") {
			return nil, errAssemble
		}
		var matching []string
		if !strings.ContainsAny(cp, "*?") {
			// A plain name matches only itself.
			if slices.Contains(all, cp) {
				matching = []string{cp}
			}
		} else {
			for _, name := range all {
				if matchPatternList(name, cp, false) == 1 {
					matching = append(matching, name)
				}
			}
		}
		out = namesCat(out, matching)
	}
	if len(out) == 0 {
		return nil, errAssemble
	}
	return out, nil
}

// namesCat appends the names of b missing from a (OpenSSH kex_names_cat), stopping at an
// empty name in b. When a is empty, b is returned as it is.
func namesCat(a, b []string) []string {
	if len(a) == 0 || (len(a) == 1 && a[0] == "") {
		return slices.Clone(b)
	}
	out := slices.Clone(a)
	for _, n := range b {
		if n == "" {
			break
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// validNames reports whether every name of list before the first empty one is in all
// (OpenSSH ciphers_valid, mac_valid, kex_names_valid). An empty list is invalid.
func validNames(list string, all []string) bool {
	if list == "" {
		return false
	}
	for _, n := range split(list) {
		if n == "" {
			break
		}
		if !slices.Contains(all, n) {
			return false
		}
	}
	return true
}

// validKeyNames is sshkey_names_valid2 with wildcards allowed: each element names a key
// algorithm or short type name, or is a pattern that matches (or negatively matches) one.
func validKeyNames(list string, all []string) bool {
	if list == "" {
		return false
	}
	for _, n := range split(list) {
		if n == "" {
			break
		}
		if slices.Contains(all, n) || slices.Contains(keyShortNames, strings.ToLower(n)) {
			continue
		}
		ok := false
		for _, name := range all {
			if matchPatternList(name, n, false) != 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
