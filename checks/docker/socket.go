package docker

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
)

// The default places of the Docker socket.
const (
	socketVarRun = "/var/run/docker.sock"
	socketRun    = "/run/docker.sock"
	runUser      = "/run/user"
)

// socketFile is a Docker socket found on disk.
type socketFile struct {
	path string
	info host.FileInfo
	// rootlessUID is the user of a rootless daemon's socket (/run/user/<uid>/...), or -1.
	rootlessUID int
	// source says how the socket was found, for the details.
	source string
}

// rootless reports whether the socket belongs to a rootless daemon.
func (s socketFile) rootless() bool { return s.rootlessUID >= 0 }

// daemonProc is a running dockerd.
type daemonProc struct {
	pid   int
	flags settings
}

// label names the process for the details.
func (d *daemonProc) label() string { return fmt.Sprintf("dockerd (pid %d)", d.pid) }

// findDaemons lists the dockerd processes with their parsed command lines. Processes that
// exit during the scan are ignored.
func findDaemons(proc host.FS) ([]daemonProc, error) {
	ps, err := hostinfo.Processes(proc)
	if err != nil {
		return nil, err
	}
	var out []daemonProc
	for _, p := range ps {
		if p.Comm != "dockerd" {
			continue
		}
		data, err := host.ReadFileLimit(proc, "/"+strconv.Itoa(p.PID)+"/cmdline", 64<<10)
		if err != nil || len(data) == 0 {
			continue // gone, or a zombie: an exited process has no command line
		}
		args := strings.Split(string(bytes.TrimRight(data, "\x00")), "\x00")
		if len(args) > 0 {
			args = args[1:]
		}
		out = append(out, daemonProc{pid: p.PID, flags: parseFlags(args)})
	}
	return out, nil
}

// canonical returns the path of a socket with /var/run replaced by /run when /var/run is a
// link to /run (as on every systemd distribution), so that one socket counts once.
func canonical(fsys host.FS, p string) string {
	rest, ok := strings.CutPrefix(p, "/var/run/")
	if !ok {
		return p
	}
	if target, err := fsys.Readlink("/var/run"); err == nil && (path.Clean(target) == "/run" || path.Clean(target) == "../run") {
		return "/run/" + rest
	}
	return p
}

// rootlessUIDOf returns the uid of a /run/user/<uid>/ path, or -1.
func rootlessUIDOf(p string) int {
	rest, ok := strings.CutPrefix(p, runUser+"/")
	if !ok {
		return -1
	}
	dir, _, _ := strings.Cut(rest, "/")
	uid, err := strconv.Atoi(dir)
	if err != nil || uid < 0 {
		return -1
	}
	return uid
}

// discoverSockets lists the Docker sockets that exist, in the order they are asked:
// DOCKER_HOST, the unix hosts of running dockerd processes, the two default paths, then
// rootless sockets. A path that exists but is not a socket is ignored.
func discoverSockets(fsys host.FS, envSocket string, daemons []daemonProc) []socketFile {
	type candidate struct{ path, source string }
	var cands []candidate
	if envSocket != "" {
		cands = append(cands, candidate{envSocket, "DOCKER_HOST"})
	}
	for _, d := range daemons {
		for _, h := range d.flags.hosts {
			if p, ok := strings.CutPrefix(h, "unix://"); ok && strings.HasPrefix(p, "/") {
				cands = append(cands, candidate{p, d.label() + " -H"})
			}
		}
	}
	cands = append(cands, candidate{socketVarRun, "default path"}, candidate{socketRun, "default path"})
	if uids, err := fsys.ReadDir(runUser); err == nil {
		for _, u := range uids {
			if _, err := strconv.Atoi(u); err == nil {
				cands = append(cands, candidate{runUser + "/" + u + "/docker.sock", "rootless path"})
			}
		}
	}
	var out []socketFile
	var seen []string
	for _, c := range cands {
		p := path.Clean(c.path)
		canon := canonical(fsys, p)
		if slices.Contains(seen, canon) {
			continue
		}
		seen = append(seen, canon)
		fi, err := fsys.Stat(p)
		if err != nil || fi.Mode&fs.ModeSocket == 0 {
			continue
		}
		out = append(out, socketFile{path: p, info: fi, rootlessUID: rootlessUIDOf(canon), source: c.source})
	}
	return out
}

// installed reports whether Docker is installed and why.
func installed(fsys host.FS, sockets []socketFile, daemons []daemonProc) (bool, string) {
	if len(sockets) > 0 {
		return true, "socket " + sockets[0].path
	}
	if len(daemons) > 0 {
		return true, daemons[0].label()
	}
	for _, p := range []string{
		"/usr/bin/dockerd", "/usr/sbin/dockerd", "/usr/local/bin/dockerd", "/bin/dockerd",
		"/lib/systemd/system/docker.service", "/usr/lib/systemd/system/docker.service",
		"/etc/systemd/system/docker.service",
	} {
		if _, err := fsys.Stat(p); err == nil {
			return true, p
		}
	}
	return false, ""
}

// serves reports whether the daemon listens on the socket p (canonical form): one of its
// unix hosts, fd:// (systemd socket activation of /run/docker.sock), or, without -H, the
// default socket.
func (d *daemonProc) serves(fsys host.FS, p string) bool {
	hosts := d.flags.hosts
	if len(hosts) == 0 {
		if d.flags.rootless != nil && *d.flags.rootless {
			return rootlessUIDOf(p) >= 0
		}
		hosts = []string{"unix://" + socketVarRun}
	}
	for _, h := range hosts {
		if h == "fd://" || strings.HasPrefix(h, "fd://") {
			if canonical(fsys, socketVarRun) == p || p == socketRun {
				return true
			}
			continue
		}
		if s, ok := strings.CutPrefix(h, "unix://"); ok {
			if s == "" {
				s = socketVarRun
			}
			if canonical(fsys, path.Clean(s)) == p {
				return true
			}
		}
	}
	return false
}

// asked returns the socket the API was asked through (or the first found).
func (s *state) asked() *socketFile {
	if s.api != nil {
		for i := range s.sockets {
			if s.sockets[i].path == s.api.socket {
				return &s.sockets[i]
			}
		}
	}
	if len(s.sockets) > 0 {
		return &s.sockets[0]
	}
	return nil
}

// pickDaemon returns the dockerd serving the socket asked, the only dockerd, or nil.
func (s *state) pickDaemon(fsys host.FS) *daemonProc {
	if sock := s.asked(); sock != nil {
		canon := canonical(fsys, sock.path)
		for i := range s.daemons {
			if s.daemons[i].serves(fsys, canon) {
				return &s.daemons[i]
			}
		}
	}
	if len(s.daemons) == 1 {
		return &s.daemons[0]
	}
	return nil
}

// rootlessUID is the user of the rootless daemon asked, or -1.
func (s *state) rootlessUID() int {
	if sock := s.asked(); sock != nil {
		return sock.rootlessUID
	}
	return -1
}
