// Package osrelease reads os-release(5): the distribution's ID, version and name.
package osrelease

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// Info is the part of os-release the agent uses.
type Info struct {
	// ID is the lower-case distribution ID ("debian", "ubuntu", "rhel").
	ID string
	// IDLike lists related distributions ("rhel fedora").
	IDLike []string
	// VersionID is the version ("12", "24.04"); empty on rolling releases.
	VersionID string
	// Codename is VERSION_CODENAME ("bookworm").
	Codename string
	// PrettyName is the human-readable name.
	PrettyName string
}

// Read reads /etc/os-release, falling back to /usr/lib/os-release as systemd specifies.
func Read(fsys host.FS) (Info, error) {
	data, err := host.ReadFileLimit(fsys, "/etc/os-release", 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = host.ReadFileLimit(fsys, "/usr/lib/os-release", 64<<10)
	}
	if err != nil {
		return Info{}, fmt.Errorf("read os-release: %w", err)
	}
	return Parse(string(data)), nil
}

// Parse parses os-release content: KEY=value lines, values optionally quoted with shell
// quoting rules for double quotes, single quotes and backslash escapes.
func Parse(data string) Info {
	vars := map[string]string{}
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		vars[key] = unquote(value)
	}
	info := Info{
		ID:         strings.ToLower(vars["ID"]),
		VersionID:  vars["VERSION_ID"],
		Codename:   vars["VERSION_CODENAME"],
		PrettyName: vars["PRETTY_NAME"],
	}
	if info.ID == "" {
		info.ID = "linux"
	}
	if like := strings.Fields(vars["ID_LIKE"]); len(like) > 0 {
		info.IDLike = like
	}
	return info
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
