package nginx

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// Version is an nginx (or OpenSSL) release number.
type Version struct {
	Major, Minor, Patch int
}

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor < o.Minor
	}
	return v.Patch < o.Patch
}

// AtLeast reports whether v is o or newer.
func (v Version) AtLeast(major, minor, patch int) bool {
	return !v.Less(Version{major, minor, patch})
}

// String is "major.minor.patch".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Build is what the nginx binary says about itself (`nginx -V`, or the same strings found
// in the binary on an offline root).
type Build struct {
	// Known is false when neither source was available.
	Known bool
	// Source is "nginx -V" or "binary".
	Source string
	// Version is the nginx release (OpenResty's four-part numbers keep the nginx part).
	Version Version
	// TLSLibrary is "openssl", "libressl" or "boringssl" ("" when unknown); TLSVersion the
	// version nginx runs with (or was built with when the running one is not printed).
	TLSLibrary string
	TLSVersion Version
	// Args are the configure arguments, unquoted.
	Args []string
}

// ConfigureValue returns the value of a configure option ("--conf-path"), ok=false when
// absent.
func (b Build) ConfigureValue(opt string) (string, bool) {
	for _, a := range b.Args {
		if v, ok := strings.CutPrefix(a, opt+"="); ok {
			return v, true
		}
	}
	return "", false
}

// HasModule reports whether a configure flag ("--with-debug") was given.
func (b Build) HasModule(flag string) bool {
	for _, a := range b.Args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// OpenSSL3 reports whether nginx runs with OpenSSL 3.0 or newer.
func (b Build) OpenSSL3() bool { return b.TLSLibrary == "openssl" && b.TLSVersion.Major >= 3 }

var (
	versionLine = regexp.MustCompile(`nginx version: [A-Za-z][A-Za-z0-9._-]*/(\d+)\.(\d+)\.(\d+)`)
	tlsLine     = regexp.MustCompile(`(built|running) with (OpenSSL|LibreSSL|BoringSSL) (\d+)\.(\d+)\.(\d+)`)
)

// parseBuild reads the output of `nginx -V`: "nginx version: nginx/1.22.1", "built with
// OpenSSL 3.0.11 … (running with OpenSSL 3.0.13 …)" and "configure arguments: …".
func parseBuild(out []byte) (Build, bool) {
	var b Build
	text := string(out)
	m := versionLine.FindStringSubmatch(text)
	if m == nil {
		return b, false
	}
	b.Known = true
	b.Version = Version{atoi(m[1]), atoi(m[2]), atoi(m[3])}
	for _, t := range tlsLine.FindAllStringSubmatch(text, -1) {
		// "running with" follows "built with" on the same line and wins.
		b.TLSLibrary = strings.ToLower(t[2])
		b.TLSVersion = Version{atoi(t[3]), atoi(t[4]), atoi(t[5])}
	}
	if i := strings.Index(text, "configure arguments:"); i >= 0 {
		line, _, _ := strings.Cut(text[i+len("configure arguments:"):], "\n")
		b.Args = splitShell(line)
	}
	return b, true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// splitShell splits configure arguments as the shell that ran configure did: blanks
// separate words, single and double quotes group them.
func splitShell(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// binaryPaths are where nginx binaries are installed by distributions, nginx.org packages,
// source builds and OpenResty.
func binaryPaths() []string {
	return []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx", "/usr/bin/nginx",
		"/usr/local/bin/nginx", "/usr/local/openresty/nginx/sbin/nginx", "/opt/nginx/sbin/nginx"}
}

// maxBinarySize bounds the scan of an nginx binary.
const maxBinarySize = 64 << 20

// scanBinary finds the strings `nginx -V` prints inside the binary itself, for offline
// roots: the version line, the TLS library it was built with and the configure arguments
// are string literals of the program.
func scanBinary(fsys host.FS, name string) (Build, error) {
	data, err := host.ReadFileLimit(fsys, name, maxBinarySize)
	if err != nil {
		return Build{}, err
	}
	var lines []string
	for _, marker := range []string{"nginx version: ", "built with ", "configure arguments:"} {
		i := bytes.Index(data, []byte(marker))
		if i < 0 {
			continue
		}
		end := bytes.IndexAny(data[i:], "\x00\n")
		if end < 0 {
			end = len(data) - i
		}
		lines = append(lines, string(data[i:i+end]))
	}
	b, ok := parseBuild([]byte(strings.Join(lines, "\n")))
	if !ok {
		return Build{}, fmt.Errorf("%s: no nginx version string found", name)
	}
	b.Source = "binary"
	return b, nil
}
