package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// dockerPlainPort is the Docker Engine API's conventional unencrypted port.
const dockerPlainPort = 2375

// dockerAPICheck is ports.docker-api. The Docker Engine API gives whoever reaches it root
// on the host. The check fails (critical) when port 2375 listens beyond loopback, and when
// any other Docker API port (2376, 4243, or any TCP socket dockerd holds) does so without
// TLS client verification (--tlsverify on dockerd's command line or "tlsverify": true in
// its daemon.json).
type dockerAPICheck struct{ f *family }

// ID implements checks.Check.
func (dockerAPICheck) ID() string { return "ports.docker-api" }

// Run implements checks.Check.
func (c dockerAPICheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	ls := dockerListeners(inv.exposed())
	if len(ls) == 0 {
		res := withListeners(checks.Pass("the Docker API does not listen beyond loopback"), ls, maxListed)
		return withDetails(res, dockerListeners(inv.local()), func(listener) string {
			return "loopback only; every local user can reach it, which is the same as membership of the docker group"
		}), nil
	}
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	verify := dockerTLSVerify(h, proc, ls)
	return evalDockerAPI(ls, verify), nil
}

// dockerListeners keeps the Docker API listeners: the docker ports and any TCP socket
// dockerd holds.
func dockerListeners(ls []listener) []listener {
	return ofServices(ls, "docker", "docker-tls")
}

// tlsEvidence is what was found about dockerd's TLS client verification.
type tlsEvidence struct {
	verify bool
	// source says where the setting was found, for the details.
	source string
}

func evalDockerAPI(ls []listener, tls tlsEvidence) checks.Result {
	var open []listener
	for _, l := range ls {
		if l.port == dockerPlainPort || !tls.verify {
			open = append(open, l)
		}
	}
	var res checks.Result
	if len(open) == 0 {
		res = checks.Pass("the Docker API listens beyond loopback with TLS client verification: %s", summary(ls))
	} else {
		res = checks.Fail("the Docker API is reachable beyond loopback without TLS client verification: %s", summary(open))
	}
	res = withDetails(withListeners(res, ls, maxListed).Bool("tls_verify", tls.verify), ls, func(l listener) string {
		if l.port == dockerPlainPort {
			return "port 2375 is the unencrypted API port"
		}
		return ""
	})
	return res.Detail("TLS client verification: %s", tls.source)
}

// dockerTLSVerify looks for TLS client verification in the command line of the dockerd
// holding a listener, then in daemon.json (the file --config-file names, or
// /etc/docker/daemon.json). A command-line setting wins, as in dockerd.
func dockerTLSVerify(h host.Host, proc host.FS, ls []listener) tlsEvidence {
	config := "/etc/docker/daemon.json"
	for _, l := range ls {
		if l.proc == nil || l.comm() != "dockerd" {
			continue
		}
		args, err := readCmdline(proc, l.proc.pid)
		if err != nil {
			continue
		}
		for i, a := range args {
			name, value, hasValue := strings.Cut(a, "=")
			switch name {
			case "--tlsverify":
				v := true
				if hasValue {
					v, _ = strconv.ParseBool(value)
				}
				return tlsEvidence{verify: v, source: fmt.Sprintf("dockerd (pid %d) command line %s", l.proc.pid, a)}
			case "--config-file":
				if hasValue {
					config = value
				} else if i+1 < len(args) {
					config = args[i+1]
				}
			}
		}
	}
	data, err := host.ReadFileLimit(h.FS(), config, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return tlsEvidence{source: "not set (no --tlsverify on the command line, no " + config + ")"}
	}
	if err != nil {
		return tlsEvidence{source: "unknown: " + err.Error()}
	}
	var cfg struct {
		TLSVerify *bool `json:"tlsverify"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return tlsEvidence{source: fmt.Sprintf("unknown: %s is not valid JSON", config)}
	}
	if cfg.TLSVerify == nil {
		return tlsEvidence{source: "not set (no --tlsverify on the command line, no tlsverify in " + config + ")"}
	}
	return tlsEvidence{verify: *cfg.TLSVerify, source: fmt.Sprintf("%q: %t in %s", "tlsverify", *cfg.TLSVerify, config)}
}

// readCmdline reads /proc/<pid>/cmdline, whose arguments are NUL-terminated.
func readCmdline(proc host.FS, pid int) ([]string, error) {
	data, err := host.ReadFileLimit(proc, "/"+strconv.Itoa(pid)+"/cmdline", 64<<10)
	if err != nil {
		return nil, err
	}
	return strings.Split(string(bytes.TrimRight(data, "\x00")), "\x00"), nil
}
