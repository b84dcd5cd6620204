package docker

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// dockerGroup is the group that owns the Docker socket by convention.
type dockerGroup struct {
	exists bool
	gid    uint32
	// members are the users listed in /etc/group and those whose primary group it is,
	// sorted and unique (local details only).
	members []string
}

// readDockerGroup reads the docker group from /etc/group and the users whose primary group
// it is from /etc/passwd (an unreadable /etc/passwd only loses those).
func readDockerGroup(fsys host.FS) (dockerGroup, error) {
	var g dockerGroup
	data, err := host.ReadFile(fsys, "/etc/group")
	if err != nil {
		return g, fmt.Errorf("read /etc/group: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) < 4 || f[0] != "docker" {
			continue
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		g.exists, g.gid = true, uint32(gid)
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" && !slices.Contains(g.members, m) {
				g.members = append(g.members, m)
			}
		}
		break
	}
	if !g.exists {
		return g, nil
	}
	passwd, err := host.ReadFile(fsys, "/etc/passwd")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return g, fmt.Errorf("read /etc/passwd: %w", err)
	}
	want := strconv.FormatUint(uint64(g.gid), 10)
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[3] == want && f[0] != "" && !slices.Contains(g.members, f[0]) {
			g.members = append(g.members, f[0])
		}
	}
	slices.Sort(g.members)
	return g, nil
}
