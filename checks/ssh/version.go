package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// Version is an OpenSSH release.
type Version struct {
	Major, Minor int
	// Portable is the portable release suffix ("p1"), when known.
	Portable string
	// Source says where the version came from: "sshd -V", "dpkg", "apk", "binary" or
	// "default".
	Source string
	// Package is the distribution package version ("1:9.2p1-2+deb12u10"), when known.
	Package string
}

// defaultVersion is assumed when nothing tells the installed release: OpenSSH 9.2, the
// release of Debian 12, a middle ground whose defaults match most supported distributions.
var defaultVersion = Version{Major: 9, Minor: 2, Source: "default"}

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// String is "9.2" or "9.2p1".
func (v Version) String() string {
	return fmt.Sprintf("%d.%d%s", v.Major, v.Minor, v.Portable)
}

// Short is "9.2", the form of the openssh_version fact.
func (v Version) Short() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// opensshVersion finds "OpenSSH_9.2p1" in a version banner.
var opensshVersion = regexp.MustCompile(`OpenSSH_(\d{1,2})\.(\d{1,2})(p\d{1,2})?`)

// parseBanner extracts the version from `sshd -V` / `ssh -V` output (or from an old sshd's
// usage message, which carries the same banner).
func parseBanner(out []byte) (Version, bool) {
	m := opensshVersion.FindSubmatch(out)
	if m == nil {
		return Version{}, false
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	return Version{Major: major, Minor: minor, Portable: string(m[3])}, true
}

// upstreamVersion matches the upstream part of a package version ("1:9.2p1-2+deb12u10",
// "9.7_p1-r4", "8.7p1-38.el9").
var upstreamVersion = regexp.MustCompile(`^(?:\d+:)?(\d{1,2})\.(\d{1,2})(?:_?(p\d{1,2}))?`)

func parsePackageVersion(pkg string) (Version, bool) {
	m := upstreamVersion.FindStringSubmatch(pkg)
	if m == nil {
		return Version{}, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return Version{Major: major, Minor: minor, Portable: m[3], Package: pkg}, true
}

// dpkgStatusLimit bounds the dpkg database read; larger databases are not searched.
const dpkgStatusLimit = 32 << 20

// packageVersion reads the openssh-server version from the dpkg or apk database.
func packageVersion(fsys host.FS) (Version, error) {
	data, err := host.ReadFileLimit(fsys, "/var/lib/dpkg/status", dpkgStatusLimit)
	if err == nil {
		if v, ok := dpkgVersion(data, "openssh-server"); ok {
			v.Source = "dpkg"
			return v, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Version{}, err
	}
	data, err = host.ReadFileLimit(fsys, "/lib/apk/db/installed", dpkgStatusLimit)
	if err == nil {
		if v, ok := apkVersion(data, "openssh-server"); ok {
			v.Source = "apk"
			return v, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Version{}, err
	}
	return Version{}, fs.ErrNotExist
}

// dpkgVersion returns the version of an installed package from /var/lib/dpkg/status.
func dpkgVersion(data []byte, pkg string) (Version, bool) {
	for _, stanza := range bytes.Split(data, []byte("\n\n")) {
		var name, status, version string
		for _, line := range strings.Split(string(stanza), "\n") {
			key, val, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			val = strings.TrimSpace(val)
			switch key {
			case "Package":
				name = val
			case "Status":
				status = val
			case "Version":
				version = val
			}
		}
		if name == pkg && strings.HasSuffix(status, " installed") {
			return parsePackageVersion(version)
		}
	}
	return Version{}, false
}

// apkVersion returns the version of a package from Alpine's /lib/apk/db/installed.
func apkVersion(data []byte, pkg string) (Version, bool) {
	for _, stanza := range bytes.Split(data, []byte("\n\n")) {
		var name, version string
		for _, line := range strings.Split(string(stanza), "\n") {
			switch {
			case strings.HasPrefix(line, "P:"):
				name = line[2:]
			case strings.HasPrefix(line, "V:"):
				version = line[2:]
			}
		}
		if name == pkg {
			return parsePackageVersion(version)
		}
	}
	return Version{}, false
}

// sshdBinaries are where distributions install sshd, in SearchPath order.
var sshdBinaries = []string{"/usr/local/sbin/sshd", "/usr/sbin/sshd", "/sbin/sshd"}

// sshdBinaryLimit bounds the sshd binary read for build markers.
const sshdBinaryLimit = 64 << 20

// buildInfo is what the sshd binary itself reveals about its build.
type buildInfo struct {
	// path is the binary read; "" when none was found.
	path string
	// strictKex: the binary knows the strict key exchange marker of the Terrapin fix.
	strictKex bool
	// names are algorithm names the binary contains as standalone strings, among those
	// buildMarkers asks about.
	names map[string]bool
	// version is the release string embedded in the binary, when found.
	version    Version
	hasVersion bool
}

// strictKexMarker is the pseudo-algorithm a server offers when it implements the strict
// key exchange that fixes Terrapin (CVE-2023-48795).
const strictKexMarker = "kex-strict-s-v00@openssh.com"

// buildMarkers are algorithm names some distributions backported to older releases; their
// presence in the binary changes the defaults the parser assumes.
var buildMarkers = []string{"sntrup761x25519-sha512", "mlkem768x25519-sha256"}

// embeddedRelease matches the SSH_RELEASE string compiled into the binary, once the
// search has found "OpenSSH_" after a NUL byte.
var embeddedRelease = regexp.MustCompile(`^OpenSSH_(\d{1,2})\.(\d{1,2})(p\d{1,2})?[ ,\x00]`)

// containsToken reports whether name occurs in data as a string of its own: after a NUL
// byte and followed by a NUL byte or a comma (a list literal).
func containsToken(data []byte, name string) bool {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(name))
		if i < 0 {
			return false
		}
		i += off
		end := i + len(name)
		if i > 0 && data[i-1] == 0 && end < len(data) && (data[end] == 0 || data[end] == ',') {
			return true
		}
		off = i + 1
	}
}

// embeddedVersion finds the release string compiled into an sshd binary.
func embeddedVersion(data []byte) (Version, bool) {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("OpenSSH_"))
		if i < 0 {
			return Version{}, false
		}
		i += off
		if i > 0 && data[i-1] == 0 {
			if m := embeddedRelease.FindSubmatch(data[i:min(len(data), i+32)]); m != nil {
				major, _ := strconv.Atoi(string(m[1]))
				minor, _ := strconv.Atoi(string(m[2]))
				return Version{Major: major, Minor: minor, Portable: string(m[3]), Source: "binary"}, true
			}
		}
		off = i + 1
	}
}

// readSized reads a whole regular file into a buffer sized from stat, which spares a
// megabyte binary the repeated growth of a generic read.
func readSized(fsys host.FS, name string, limit int64) ([]byte, error) {
	fi, err := fsys.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.Size > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: host.ErrTooLarge}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(buf.Len()) > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: host.ErrTooLarge}
	}
	return buf.Bytes(), nil
}

// readBuild reads the first sshd binary found for build markers. It never executes it.
func readBuild(_ context.Context, fsys host.FS) (buildInfo, error) {
	var firstErr error
	for _, p := range sshdBinaries {
		data, err := readSized(fsys, p, sshdBinaryLimit)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && firstErr == nil {
				firstErr = err
			}
			continue
		}
		b := buildInfo{path: p, names: map[string]bool{}}
		b.strictKex = bytes.Contains(data, []byte(strictKexMarker))
		for _, n := range buildMarkers {
			if containsToken(data, n) {
				b.names[n] = true
			}
		}
		b.version, b.hasVersion = embeddedVersion(data)
		return b, nil
	}
	if firstErr != nil {
		return buildInfo{}, firstErr
	}
	return buildInfo{}, fs.ErrNotExist
}
