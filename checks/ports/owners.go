package ports

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
)

// process is the program holding a listening socket.
type process struct {
	pid  int
	comm string
	// exe is the target of /proc/<pid>/exe ("" when unreadable); exeDeleted is true when
	// the kernel marks it " (deleted)": the binary was replaced or removed while running.
	exe        string
	exeDeleted bool
	// container is true when /proc/<pid>/cgroup names a container runtime's cgroup.
	container bool
}

// tempExe reports whether the program runs from a world-writable temporary directory.
func (p *process) tempExe() bool {
	for _, dir := range []string{"/tmp/", "/var/tmp/", "/dev/shm/"} {
		if strings.HasPrefix(p.exe, dir) {
			return true
		}
	}
	return false
}

// containerCgroup matches the cgroup paths of container runtimes: Docker and containerd
// (docker-<id>.scope, /docker/<id>, cri-containerd-<id>), Kubernetes (kubepods), Podman
// (libpod-<id>), CRI-O (crio-<id>) and LXC. The service cgroup of a daemon itself
// (system.slice/docker.service) does not match.
var containerCgroup = regexp.MustCompile(`/docker[-/][0-9a-f]{12}|cri-containerd-[0-9a-f]{12}|kubepods|/libpod-[0-9a-f]{12}|/crio-[0-9a-f]{12}|/lxc(\.payload)?[./]`)

// maxProcesses bounds the process scan.
const maxProcesses = 100000

// attribute maps each socket's inode to the process holding it, by reading every
// process's /proc/<pid>/fd links ("socket:[<inode>]"). As root every process is readable;
// otherwise only the caller's own, and sockets nobody readable holds stay ownerUnknown.
// The scan stops as soon as every socket is found.
func attribute(ctx context.Context, proc host.FS, inv *inventory) error {
	if len(inv.sockets) == 0 {
		return nil
	}
	wanted := map[uint64]bool{}
	for _, s := range inv.sockets {
		if s.inode != 0 {
			wanted[s.inode] = true
		}
	}
	pids, err := listPIDs(proc)
	if err != nil {
		return err
	}
	// owners maps an inode to the PID holding it. Processes sharing a socket (a master and
	// its workers) are met in PID order and the first is kept, except that init (PID 1,
	// which holds the sockets of systemd socket units) gives way to the service it started
	// on the socket (rpcbind, sshd). settled counts the inodes with a final owner.
	owners := map[uint64]int{}
	settled := 0
	sawInit := false
	for i, pid := range pids {
		if settled == len(wanted) {
			break
		}
		if i%64 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		name := strconv.Itoa(pid)
		fds, err := proc.ReadDir("/" + name + "/fd")
		switch {
		case err == nil:
			if pid == 1 {
				sawInit = true
			}
		case errors.Is(err, fs.ErrPermission):
			inv.unreadable++
			continue
		default:
			continue // exited, or a zombie
		}
		for _, fd := range fds {
			target, err := proc.Readlink("/" + name + "/fd/" + fd)
			if err != nil {
				continue
			}
			inode, ok := socketInode(target)
			if !ok || !wanted[inode] {
				continue
			}
			prev, seen := owners[inode]
			switch {
			case !seen:
				owners[inode] = pid
				if pid != 1 {
					settled++
				}
			case prev == 1 && pid != 1:
				owners[inode] = pid
				settled++
			}
		}
	}
	// /proc/1 is missing or unreadable when procfs hides other users' processes
	// (hidepid) or when not root: then a socket nobody was seen holding is of unknown
	// owner, not a kernel socket.
	complete := inv.unreadable == 0 && sawInit
	details := map[int]*process{}
	for i := range inv.sockets {
		s := &inv.sockets[i]
		pid, found := owners[s.inode]
		switch {
		case found:
			p := details[pid]
			if p == nil {
				p = describe(proc, pid)
				details[pid] = p
			}
			s.owner, s.proc = ownerFound, p
		case complete:
			s.owner = ownerNone
		default:
			s.owner = ownerUnknown
		}
	}
	return nil
}

// listPIDs returns the process IDs in procfs in numeric order, at most maxProcesses.
func listPIDs(proc host.FS) ([]int, error) {
	names, err := proc.ReadDir("/")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	if len(pids) > maxProcesses {
		pids = pids[:maxProcesses]
	}
	return pids, nil
}

// socketInode parses a descriptor link target "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	rest, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// describe reads what the reports show of a process: its name, binary and container
// membership. Unreadable parts stay empty.
func describe(proc host.FS, pid int) *process {
	dir := "/" + strconv.Itoa(pid)
	p := &process{pid: pid}
	if data, err := host.ReadFileLimit(proc, dir+"/comm", 64); err == nil {
		p.comm = strings.TrimSuffix(string(data), "\n")
	}
	if exe, err := proc.Readlink(dir + "/exe"); err == nil {
		p.exe, p.exeDeleted = strings.CutSuffix(exe, " (deleted)")
	}
	if data, err := host.ReadFileLimit(proc, dir+"/cgroup", 64<<10); err == nil {
		p.container = containerCgroup.Match(data)
	}
	return p
}
