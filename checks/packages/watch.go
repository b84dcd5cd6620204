package packages

import "strings"

// watchList names the packages whose names may leave the machine as facts (pending
// updates, legacy packages): security-relevant software every server runs or exposes.
// Anything else is counted, never named.
func watchList() []string {
	return []string{
		"openssh-server", "openssh-client", "sudo", "openssl", "libssl3", "libssl3t64", "libssl1.1",
		"libc6", "libc-bin", "linux-image", "nginx", "nginx-common", "apache2", "docker.io",
		"docker-ce", "containerd", "containerd.io", "runc", "polkitd", "policykit-1", "pkexec",
		"xz-utils", "liblzma5", "systemd", "bash", "curl", "libcurl4", "libcurl4t64",
		"openssl-provider-legacy", "gnutls-bin", "libgnutls30", "libgnutls30t64", "apt",
		"libpam-modules", "login", "passwd", "util-linux", "tzdata", "ca-certificates",
	}
}

// watchName returns the watch-list name of a package ("linux-image" for every
// linux-image-* kernel package), or "" when it is not watched.
func watchName(name string) string {
	if strings.HasPrefix(name, "linux-image-") {
		return "linux-image"
	}
	for _, w := range watchList() {
		if w == name {
			return w
		}
	}
	return ""
}
