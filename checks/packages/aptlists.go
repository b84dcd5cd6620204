package packages

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// aptListsDir is where apt keeps the downloaded indexes.
const aptListsDir = "/var/lib/apt/lists"

// maxListSize bounds a decompressed Packages file (Debian's largest are about 60 MB);
// anything larger is refused rather than held in memory.
const maxListSize = 256 << 20

// releaseFile is one suite's Release or InRelease file.
type releaseFile struct {
	// name is the file name in aptListsDir; prefix what its Packages files start with.
	name, prefix string
	suite        string
	codename     string
	label        string
	origin       string
	mtime        time.Time
}

// security reports whether the suite is a security suite: "<codename>-security" (Debian 11+,
// Ubuntu), "<suite>-security" ("oldstable-security"), or the Debian-Security label (Debian 10
// and older named it "<codename>/updates").
func (r releaseFile) security() bool {
	return strings.HasSuffix(r.suite, "-security") || strings.HasSuffix(r.codename, "-security") ||
		strings.EqualFold(r.label, "Debian-Security")
}

// describe names the suite for messages.
func (r releaseFile) describe() string {
	if r.codename != "" && r.codename != r.suite {
		return r.codename + " (" + r.suite + ")"
	}
	return r.suite
}

// parseRelease reads the fields of a Release or InRelease file that name the suite. The
// OpenPGP armour of InRelease is skipped; the hash lists are not needed.
func parseRelease(data []byte) (releaseFile, error) {
	var r releaseFile
	text := string(data)
	if strings.HasPrefix(text, "-----BEGIN PGP SIGNED MESSAGE-----") {
		_, body, ok := strings.Cut(text, "\n\n")
		if !ok {
			return r, fmt.Errorf("InRelease armour without a body: %w", checks.ErrParse)
		}
		text = body
	}
	if i := strings.Index(text, "\n-----BEGIN PGP SIGNATURE-----"); i >= 0 {
		text = text[:i]
	}
	fields := 0
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return r, fmt.Errorf("line %q is not a field: %w", truncate(line, 40), checks.ErrParse)
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Suite":
			r.suite = val
		case "Codename":
			r.codename = val
		case "Label":
			r.label = val
		case "Origin":
			r.origin = val
		}
		fields++
	}
	if r.suite == "" && r.codename == "" {
		return r, fmt.Errorf("no Suite or Codename field: %w", checks.ErrParse)
	}
	return r, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// listEntry is one stanza of a Packages file.
type listEntry struct {
	name, version, arch string
}

// parsePackages calls fn for every stanza of a Packages index: "Field: value" lines,
// continuation lines starting with a space or tab, stanzas separated by blank lines. A
// stanza without Package or Version, or a line that is neither a field nor a continuation,
// is malformed (a truncated download ends mid-stanza and fails here). The index is streamed:
// a decompressed list is several megabytes and only three fields matter.
func parsePackages(r io.Reader, fn func(listEntry)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var e listEntry
	line := 0
	flush := func() error {
		if e == (listEntry{}) {
			return nil
		}
		if e.name == "" || e.version == "" {
			return fmt.Errorf("stanza ending at line %d has no Package or Version: %w", line, checks.ErrParse)
		}
		fn(e)
		e = listEntry{}
		return nil
	}
	for {
		l, err := br.ReadSlice('\n')
		long := errors.Is(err, bufio.ErrBufferFull)
		if err != nil && !long && !errors.Is(err, io.EOF) {
			return err
		}
		if len(l) == 0 && errors.Is(err, io.EOF) {
			return flush()
		}
		line++
		first := l
		for long {
			// A line longer than the buffer: only continuation lines (descriptions) may be.
			_, err = br.ReadSlice('\n')
			long = errors.Is(err, bufio.ErrBufferFull)
			if err != nil && !long && !errors.Is(err, io.EOF) {
				return err
			}
			if first[0] != ' ' && first[0] != '\t' {
				return fmt.Errorf("line %d is longer than %d bytes: %w", line, br.Size(), checks.ErrParse)
			}
		}
		l = bytes.TrimSuffix(bytes.TrimSuffix(first, []byte("\n")), []byte("\r"))
		switch {
		case len(l) == 0:
			if ferr := flush(); ferr != nil {
				return ferr
			}
		case l[0] == ' ' || l[0] == '\t':
		default:
			colon := bytes.IndexByte(l, ':')
			if colon <= 0 {
				return fmt.Errorf("line %d is not a field: %w", line, checks.ErrParse)
			}
			key, value := l[:colon], bytes.TrimSpace(l[colon+1:])
			switch {
			case bytes.Equal(key, []byte("Package")):
				e.name = string(value)
			case bytes.Equal(key, []byte("Version")):
				e.version = string(value)
			case bytes.Equal(key, []byte("Architecture")):
				e.arch = string(value)
			}
		}
		if errors.Is(err, io.EOF) {
			return flush()
		}
	}
}

// readList streams a Packages index through parsePackages, decompressing it by its
// suffix: .lz4, .gz, .xz or none (apt keeps lists compressed with Acquire::GzipIndexes).
// Other suffixes are errors.ErrUnsupported.
func readList(fsys host.FS, name string, fn func(listEntry)) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader
	ext := ""
	if i := strings.LastIndex(name, "_Packages"); i >= 0 {
		ext = name[i+len("_Packages"):]
	}
	switch ext {
	case ".lz4":
		r = lz4.NewReader(f)
	case ".gz":
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("decompress %s: %v: %w", name, err, checks.ErrParse)
		}
		defer zr.Close()
		r = zr
	case ".xz":
		xr, err := xz.NewReader(f)
		if err != nil {
			return fmt.Errorf("decompress %s: %v: %w", name, err, checks.ErrParse)
		}
		r = xr
	case "":
		r = f
	default:
		return fmt.Errorf("read %s: compression %q: %w", name, ext, errors.ErrUnsupported)
	}
	limited := &io.LimitedReader{R: r, N: maxListSize + 1}
	err = parsePackages(limited, fn)
	if limited.N <= 0 {
		return fmt.Errorf("read %s: %w", name, host.ErrTooLarge)
	}
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, checks.ErrParse) {
			return err
		}
		return fmt.Errorf("decompress %s: %v: %w", name, err, checks.ErrParse)
	}
	return nil
}

// isPackagesList reports whether a list file name is a binary Packages index.
func isPackagesList(name string) bool {
	base := name
	for _, ext := range []string{".lz4", ".gz", ".xz", ".zst", ".bz2"} {
		base = strings.TrimSuffix(base, ext)
	}
	return strings.HasSuffix(base, "_Packages")
}
