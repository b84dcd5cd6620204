package nginx

import (
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/hostinfo"
)

// process is a running nginx process.
type process struct {
	pid int
	// title is the process title nginx sets ("nginx: master process /usr/sbin/nginx -g …").
	title string
	// uid is the effective UID (/proc/<pid>/status Uid, second field); -1 when unknown.
	uid int
	// exe is the binary (/proc/<pid>/exe), "" when unreadable or deleted.
	exe string
}

// processes are the nginx processes found running.
type processes struct {
	masters []process
	workers []process
}

// scanProcesses lists nginx master and worker processes: /proc/<pid>/comm is "nginx" (or
// "openresty") and the process title names the role.
func scanProcesses(proc host.FS) (processes, error) {
	var ps processes
	all, err := hostinfo.Processes(proc)
	if err != nil {
		return ps, err
	}
	for _, pr := range all {
		if pr.Comm != "nginx" && pr.Comm != "openresty" {
			continue
		}
		e := strconv.Itoa(pr.PID)
		raw, err := host.ReadFileLimit(proc, "/"+e+"/cmdline", 16<<10)
		if err != nil {
			continue
		}
		p := process{pid: pr.PID, title: cmdlineTitle(raw), uid: statusUID(proc, e)}
		switch {
		case strings.HasPrefix(p.title, "nginx: master process"):
			if exe, err := proc.Readlink("/" + e + "/exe"); err == nil && !strings.HasSuffix(exe, " (deleted)") {
				p.exe = exe
			}
			ps.masters = append(ps.masters, p)
		case strings.HasPrefix(p.title, "nginx: worker process"):
			ps.workers = append(ps.workers, p)
		}
	}
	return ps, nil
}

// cmdlineTitle turns /proc/<pid>/cmdline into one line: nginx overwrites its argv with a
// title padded with NULs; an untitled process has its arguments NUL-separated.
func cmdlineTitle(raw []byte) string {
	parts := strings.Split(string(raw), "\x00")
	var words []string
	for _, p := range parts {
		if p != "" {
			words = append(words, p)
		}
	}
	return strings.Join(words, " ")
}

// statusUID reads the effective UID from /proc/<pid>/status, -1 when unknown.
func statusUID(proc host.FS, pid string) int {
	data, err := host.ReadFileLimit(proc, "/"+pid+"/status", 64<<10)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "Uid:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) >= 2 {
			if uid, err := strconv.Atoi(f[1]); err == nil {
				return uid
			}
		}
	}
	return -1
}

// cmdOptions are the options of a master's command line that change which configuration
// nginx reads.
type cmdOptions struct {
	conf, prefix, globals string
}

// parseMasterTitle reads -c, -p and -g from a master's title
// ("nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf -g daemon on;"). The
// title joins the original arguments with blanks, so a -g value runs up to the next
// option.
func parseMasterTitle(title string) cmdOptions {
	var o cmdOptions
	rest, ok := strings.CutPrefix(title, "nginx: master process")
	if !ok {
		return o
	}
	words := strings.Fields(rest)
	if len(words) == 0 {
		return o
	}
	words = words[1:] // the binary
	isOption := func(w string) bool {
		return len(w) >= 2 && w[0] == '-' && strings.ContainsRune("?hvVtTqsepcg", rune(w[1]))
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !isOption(w) {
			continue
		}
		flag, attached := w[1], w[2:]
		value := func() string {
			if attached != "" {
				return attached
			}
			if i+1 < len(words) {
				i++
				return words[i]
			}
			return ""
		}
		switch flag {
		case 'c':
			o.conf = value()
		case 'p':
			o.prefix = value()
		case 'e', 's':
			value()
		case 'g':
			vals := []string{}
			if attached != "" {
				vals = append(vals, attached)
			}
			for i+1 < len(words) && !isOption(words[i+1]) {
				i++
				vals = append(vals, words[i])
			}
			o.globals = strings.Join(vals, " ")
		}
	}
	return o
}
