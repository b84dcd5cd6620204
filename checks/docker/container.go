package docker

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// containerInfo is what the checks read of one container. It is filled from the inspect
// answer field by field and has no place for environment variables, labels, the command or
// its arguments: those are never copied out of the decoded answer, which is dropped.
type containerInfo struct {
	id, name, state string
	privileged      bool
	mounts          []mountInfo

	pidMode, ipcMode, netMode, utsMode, usernsMode string

	capAdd []string

	seccompUnconfined, apparmorUnconfined, labelDisabled bool

	// ports are the published ports: the bindings in effect for a running container, the
	// requested ones (host address possibly empty) for a created one.
	ports []portBinding

	user      string
	memory    int64
	pidsLimit int64
}

// mountInfo is a bind mount of a host path.
type mountInfo struct {
	source, dest string
	rw           bool
}

// portBinding is one published port.
type portBinding struct {
	hostIP        string
	hostPort      int
	containerPort int
	proto         string
	requested     bool // from the container's configuration, not yet bound
}

// fromInspect copies what the checks need from an inspect answer.
func fromInspect(r container.InspectResponse) containerInfo {
	var c containerInfo
	if b := r.ContainerJSONBase; b != nil {
		c.id, c.name = b.ID, strings.TrimPrefix(b.Name, "/")
		if b.State != nil {
			c.state = string(b.State.Status)
		}
		if b.AppArmorProfile == "unconfined" {
			c.apparmorUnconfined = true
		}
		if hc := b.HostConfig; hc != nil {
			c.fromHostConfig(hc)
		}
	}
	if c.name == "" {
		c.name = shortID(c.id)
	}
	if r.Config != nil {
		c.user = strings.TrimSpace(r.Config.User)
	}
	for _, m := range r.Mounts {
		if m.Type == mount.TypeBind {
			c.addMount(m.Source, m.Destination, m.RW)
		}
	}
	switch {
	case c.netMode == "host":
		c.ports = nil // published ports are ignored on the host network
	case c.state != "created" && r.NetworkSettings != nil && r.NetworkSettings.Ports != nil:
		c.ports = nil
		for p, bindings := range r.NetworkSettings.Ports {
			for _, b := range bindings {
				hp, _ := strconv.Atoi(b.HostPort)
				c.ports = append(c.ports, portBinding{hostIP: b.HostIP, hostPort: hp, containerPort: p.Int(), proto: p.Proto()})
			}
		}
	}
	slices.SortFunc(c.ports, func(a, b portBinding) int {
		if a.hostPort != b.hostPort {
			return a.hostPort - b.hostPort
		}
		return strings.Compare(a.hostIP, b.hostIP)
	})
	return c
}

// fromHostConfig copies the host configuration.
func (c *containerInfo) fromHostConfig(hc *container.HostConfig) {
	c.privileged = hc.Privileged
	c.pidMode, c.ipcMode, c.netMode = string(hc.PidMode), string(hc.IpcMode), string(hc.NetworkMode)
	c.utsMode, c.usernsMode = string(hc.UTSMode), string(hc.UsernsMode)
	c.capAdd = slices.Clone([]string(hc.CapAdd))
	for _, o := range hc.SecurityOpt {
		key, val, _ := strings.Cut(o, "=")
		if val == "" && !strings.Contains(o, "=") {
			key, val, _ = strings.Cut(o, ":") // the old key:value syntax
		}
		switch key {
		case "seccomp":
			c.seccompUnconfined = c.seccompUnconfined || val == "unconfined"
		case "apparmor":
			c.apparmorUnconfined = c.apparmorUnconfined || val == "unconfined"
		case "label":
			c.labelDisabled = c.labelDisabled || val == "disable"
		}
	}
	c.memory = hc.Memory
	if hc.PidsLimit != nil {
		c.pidsLimit = *hc.PidsLimit
	}
	for _, b := range hc.Binds {
		parts := strings.Split(b, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "/") {
			continue // a named volume
		}
		rw := true
		if len(parts) > 2 {
			for _, o := range strings.Split(parts[2], ",") {
				if o == "ro" {
					rw = false
				}
			}
		}
		c.addMount(parts[0], parts[1], rw)
	}
	for _, m := range hc.Mounts {
		if m.Type == mount.TypeBind {
			c.addMount(m.Source, m.Target, !m.ReadOnly)
		}
	}
	for p, bindings := range hc.PortBindings {
		for _, b := range bindings {
			hp, _ := strconv.Atoi(b.HostPort)
			c.ports = append(c.ports, portBinding{hostIP: b.HostIP, hostPort: hp, containerPort: p.Int(), proto: p.Proto(), requested: true})
		}
	}
}

// addMount records a bind mount once per destination.
func (c *containerInfo) addMount(source, dest string, rw bool) {
	if source == "" {
		return
	}
	m := mountInfo{source: path.Clean(source), dest: path.Clean(dest), rw: rw}
	if i := slices.IndexFunc(c.mounts, func(x mountInfo) bool { return x.dest == m.dest }); i >= 0 {
		c.mounts[i] = m
		return
	}
	c.mounts = append(c.mounts, m)
}
