// Package docker holds the Docker Engine checks: how the daemon is reached and configured,
// and how each running or created container is confined.
//
// The daemon is asked through its Engine API on a Unix socket, found in this order: the
// agent's DOCKER_HOST when it names a unix:// socket (a tcp:// value is reported, never
// dialled: checks open no network connections), the unix:// hosts of dockerd's -H flags,
// /var/run/docker.sock, /run/docker.sock and rootless /run/user/<uid>/docker.sock. Every
// request has its own deadline, so a socket that accepts and never answers costs one
// deadline and gives status error (timeout). What the API does not show (listening hosts,
// TLS, iptables, log options) comes from daemon.json and dockerd's command line
// (/proc/<pid>/cmdline), flags overriding the file as in dockerd; on an offline root, from
// daemon.json and the docker.service unit's ExecStart. Where the API and the files
// disagree the API wins and the details say so (docker-bench#213).
//
// Container inspection is decoded by the Engine client and immediately copied into this
// package's own types, which have no field for environment variables, labels, commands or
// arguments: none of them is ever kept, logged or reported. Facts are counts, booleans,
// enums, versions and object facts of containers (their names, hashed by the payload);
// container names, paths and addresses appear in the local details only.
package docker

import (
	"context"
	"os"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// Checks returns every check of the family, in report order; fw is the firewall state
// shared with the firewall family (for published ports that bypass ufw or firewalld).
func Checks(fw *firewall.Collector) []checks.Check {
	return checksWith(newCollector(os.Getenv), fw)
}

// checksWith returns the checks sharing c and fw.
func checksWith(c *collector, fw *firewall.Collector) []checks.Check {
	return []checks.Check{
		dockerCheck{id: "docker.socket-permissions", c: c, need: needFiles, live: true, run: runSocketPermissions},
		dockerCheck{id: "docker.remote-api-tls", c: c, need: needConfig, run: runRemoteAPITLS},
		dockerCheck{id: "docker.group-members", c: c, need: needFiles, run: runGroupMembers},
		dockerCheck{id: "docker.userns", c: c, need: needDaemon, run: runUserns},
		dockerCheck{id: "docker.no-new-privileges", c: c, need: needDaemon, run: runNoNewPrivileges},
		dockerCheck{id: "docker.icc", c: c, need: needDaemon, run: runICC},
		dockerCheck{id: "docker.insecure-registries", c: c, need: needDaemon, run: runInsecureRegistries},
		dockerCheck{id: "docker.iptables", c: c, need: needConfig, run: runIptables},
		dockerCheck{id: "docker.log-rotation", c: c, need: needDaemon, run: runLogRotation},
		dockerCheck{id: "docker.privileged-containers", c: c, need: needContainers, run: runPrivileged},
		dockerCheck{id: "docker.socket-mounted", c: c, need: needContainers, run: runSocketMounted},
		dockerCheck{id: "docker.sensitive-mounts", c: c, need: needContainers, run: runSensitiveMounts},
		dockerCheck{id: "docker.host-namespaces", c: c, need: needContainers, run: runHostNamespaces},
		dockerCheck{id: "docker.capabilities", c: c, need: needContainers, run: runCapabilities},
		dockerCheck{id: "docker.security-profiles", c: c, need: needContainers, run: runSecurityProfiles},
		dockerCheck{id: "docker.published-ports", c: c, need: needContainers, run: runPublishedPorts},
		dockerCheck{id: "docker.root-containers", c: c, need: needContainers, run: runRootContainers},
		dockerCheck{id: "docker.resource-limits", c: c, need: needContainers, run: runResourceLimits},
		dockerCheck{id: "docker.firewall-bypass", c: c, need: needContainers, run: firewallBypass(fw)},
		dockerCheck{id: "docker.vulnerable-engine", c: c, need: needFiles, run: runVulnerableEngine},
	}
}

// need is what a check needs of the collected state before it can judge.
type need int

const (
	// needFiles: files only (the socket's mode, /etc/group); Docker must be installed.
	needFiles need = iota
	// needConfig: the daemon's configuration (daemon.json and its command line); on a live
	// host dockerd must run.
	needConfig
	// needDaemon: the running daemon's view through the API; on an offline root the
	// configured values stand in for it.
	needDaemon
	// needContainers: the containers, from the API of the running system.
	needContainers
)

// dockerCheck is a check of this family: it gets the shared state and judges it.
type dockerCheck struct {
	id   string
	c    *collector
	need need
	// live: the check needs the running system even to know whether Docker is installed
	// (its catalog entry says live); offline roots skip it with not_live.
	live bool
	run  func(ctx context.Context, h host.Host, s *state) checks.Result
}

// ID implements checks.Check.
func (k dockerCheck) ID() string { return k.id }

// Run implements checks.Check.
func (k dockerCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	if (k.live || k.need == needContainers) && !h.Live() {
		what := "containers"
		if k.need != needContainers {
			what = "sockets"
		}
		return checks.Skip(report.ReasonNotLive, "Docker %s exist only on the running system", what), nil
	}
	s, err := k.c.Get(ctx, h)
	if err != nil {
		return checks.FromError("docker state", err), nil
	}
	if r := s.gate(k.need); r != nil {
		return *r, nil
	}
	return k.run(ctx, h, s), nil
}
