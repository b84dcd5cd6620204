package ssh

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks/host"
)

// memFS is an in-memory host.FS for parser tests: files by absolute name, directories
// implied by them, symbolic links by target.
type memFS struct {
	files map[string]string
	links map[string]string
}

func newMemFS(files map[string]string) *memFS {
	return &memFS{files: files, links: map[string]string{}}
}

func (m *memFS) resolve(name string) string {
	for range 40 {
		target, ok := m.links[name]
		if !ok {
			return name
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(name), target)
		}
		name = target
	}
	return name
}

func (m *memFS) isDir(name string) bool {
	prefix := strings.TrimSuffix(name, "/") + "/"
	for f := range m.files {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return name == "/"
}

func (m *memFS) Open(name string) (io.ReadCloser, error) {
	name = m.resolve(path.Clean(name))
	if data, ok := m.files[name]; ok {
		return io.NopCloser(bytes.NewReader([]byte(data))), nil
	}
	if m.isDir(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: host.ErrNotRegular}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) Stat(name string) (host.FileInfo, error) {
	name = m.resolve(path.Clean(name))
	if data, ok := m.files[name]; ok {
		return host.FileInfo{Name: path.Base(name), Size: int64(len(data)), Mode: 0o644}, nil
	}
	if m.isDir(name) {
		return host.FileInfo{Name: path.Base(name), Mode: fs.ModeDir | 0o755}, nil
	}
	return host.FileInfo{}, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) Lstat(name string) (host.FileInfo, error) {
	if _, ok := m.links[path.Clean(name)]; ok {
		return host.FileInfo{Name: path.Base(name), Mode: fs.ModeSymlink | 0o777}, nil
	}
	return m.Stat(name)
}

func (m *memFS) ReadDir(name string) ([]string, error) {
	name = m.resolve(path.Clean(name))
	if !m.isDir(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	prefix := strings.TrimSuffix(name, "/") + "/"
	var out []string
	add := func(f string) {
		if rest, ok := strings.CutPrefix(f, prefix); ok {
			elem, _, _ := strings.Cut(rest, "/")
			if !slices.Contains(out, elem) {
				out = append(out, elem)
			}
		}
	}
	for f := range m.files {
		add(f)
	}
	for l := range m.links {
		add(l)
	}
	slices.Sort(out)
	return out, nil
}

func (m *memFS) Readlink(name string) (string, error) {
	if t, ok := m.links[path.Clean(name)]; ok {
		return t, nil
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
}

// parseFiles parses /etc/ssh/sshd_config from files for OpenSSH v (Debian 12's build when
// v is zero) and the default probe.
func parseFiles(t testing.TB, files map[string]string, v Version) (*parsed, error) {
	t.Helper()
	if v.Major == 0 {
		v = Version{Major: 9, Minor: 2}
	}
	build := buildInfo{names: map[string]bool{}}
	return parseConfig(newMemFS(files), parseOptions{probe: defaultProbe, version: v, alg: algorithmsFor(v, build)})
}
