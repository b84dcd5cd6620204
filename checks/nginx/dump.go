package nginx

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
)

// dumpMarker starts each file in the output of `nginx -T`: "# configuration file NAME:".
const dumpMarker = "# configuration file "

// dumpFile is one file printed by `nginx -T`.
type dumpFile struct {
	name string
	data []byte
}

// splitDump splits the standard output of `nginx -T` into the files nginx read. nginx
// prints, for every file it parsed (each once, the main file first, in the order it opened
// them), a marker line, the file's bytes unchanged and one newline. A line inside a file
// that looks exactly like a marker cannot be told apart; the caller detects that case
// because the parsed configuration then does not use every printed file.
func splitDump(out []byte) ([]dumpFile, error) {
	if !bytes.HasPrefix(out, []byte(dumpMarker)) {
		return nil, fmt.Errorf("nginx -T output does not start with %q: %w", strings.TrimSpace(dumpMarker), checks.ErrParse)
	}
	var files []dumpFile
	seen := map[string]bool{}
	rest := out
	for len(rest) > 0 {
		// rest starts with a marker line.
		eol := bytes.IndexByte(rest, '\n')
		if eol < 0 {
			return nil, fmt.Errorf("nginx -T output ends inside a file marker: %w", checks.ErrParse)
		}
		header := string(rest[len(dumpMarker):eol])
		name, ok := strings.CutSuffix(header, ":")
		if !ok || !strings.HasPrefix(name, "/") {
			return nil, fmt.Errorf("nginx -T output: malformed file marker %q: %w", header, checks.ErrParse)
		}
		body := rest[eol+1:]
		end := nextMarker(body)
		content := body[:end]
		rest = body[end:]
		// nginx adds one newline after each file.
		content = bytes.TrimSuffix(content, []byte("\n"))
		if seen[name] {
			return nil, fmt.Errorf("nginx -T output names %s twice: %w", name, checks.ErrParse)
		}
		seen[name] = true
		files = append(files, dumpFile{name: name, data: content})
	}
	return files, nil
}

// nextMarker returns the offset of the next marker line in b (at a line start), or len(b).
func nextMarker(b []byte) int {
	off := 0
	for {
		i := bytes.Index(b[off:], []byte("\n"+dumpMarker))
		if i < 0 {
			return len(b)
		}
		pos := off + i + 1
		line := b[pos:]
		if eol := bytes.IndexByte(line, '\n'); eol > 0 && bytes.HasSuffix(line[:eol], []byte(":")) &&
			bytes.HasPrefix(line[len(dumpMarker):], []byte("/")) {
			return pos
		}
		off = pos
	}
}

// dumpSource serves the files printed by `nginx -T` to the parser.
type dumpSource struct {
	files map[string][]byte
	names []string
}

func newDumpSource(files []dumpFile) *dumpSource {
	s := &dumpSource{files: map[string][]byte{}}
	for _, f := range files {
		s.files[f.name] = f.data
		s.names = append(s.names, f.name)
	}
	return s
}

func (s *dumpSource) read(name string) ([]byte, error) {
	data, ok := s.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("not in the output of nginx -T: %w", fs.ErrNotExist)}
	}
	return data, nil
}

func (s *dumpSource) glob(pattern string) ([]string, error) {
	var out []string
	for _, n := range s.names {
		if matchGlob(pattern, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// parseDump parses the output of `nginx -T` into a configuration tree. Every printed file
// must be used by the tree, and every file the tree includes must have been printed;
// otherwise the output is not understood (a marker-like line inside a file, or include
// rules that differ from nginx's) and the caller falls back to reading the files.
func parseDump(out []byte, globals string) (*parseResult, error) {
	files, err := splitDump(out)
	if err != nil {
		return nil, err
	}
	src := newDumpSource(files)
	res, err := parseConfig(src, files[0].name, globals)
	if err != nil {
		return nil, err
	}
	if len(res.files) != len(files) {
		for _, f := range files {
			if !slices.Contains(res.files, f.name) {
				return nil, fmt.Errorf("nginx -T printed %s, which the configuration does not include: %w", f.name, checks.ErrParse)
			}
		}
	}
	return res, nil
}
