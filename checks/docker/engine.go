package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/securecodehq/server-audit/checks/host"
)

// Limits of the Engine API conversation.
const (
	// apiTimeout bounds each request: a socket that accepts and never answers costs one.
	apiTimeout = 3 * time.Second
	// maxContainers bounds the containers inspected.
	maxContainers = 1000
	// inspectWorkers is how many containers are inspected at once.
	inspectWorkers = 8
)

// engine is what the Engine API said.
type engine struct {
	// socket is the path asked; apiVersion the negotiated API version.
	socket     string
	apiVersion string

	engineVersion, containerdVersion, runcVersion string

	info engineInfo

	// bridge is the default bridge network (nil when the daemon has none); bridgeErr why
	// it could not be read.
	bridge    *bridgeNetwork
	bridgeErr error

	// containers are the running and created containers, sorted by name; skipped counts
	// those in other states (exited, dead); containersErr is why they could not be read.
	containers    []containerInfo
	skipped       int
	truncated     bool
	containersErr error
}

// engineInfo is the part of /info the checks read.
type engineInfo struct {
	securityOptions []string
	loggingDriver   string
	// insecure lists the insecure registries: CIDRs and registries marked not secure.
	insecureCIDRs   []string
	insecureIndexes []string
	// warnings are the daemon's own warnings (an unencrypted TCP listener, for one).
	warnings []string
}

// securityOption reports whether /info's SecurityOptions has name=<name>.
func (i engineInfo) securityOption(name string) bool {
	for _, o := range i.securityOptions {
		for _, kv := range strings.Split(o, ",") {
			if kv == "name="+name {
				return true
			}
		}
	}
	return false
}

// bridgeNetwork is the part of the default bridge network the checks read.
type bridgeNetwork struct {
	// icc is com.docker.network.bridge.enable_icc; iccSet whether the option is present.
	icc, iccSet bool
}

// dialer connects the Engine client to one socket through the host and remembers the
// first connection error, which the client does not pass on.
type dialer struct {
	h    host.Host
	path string
	mu   sync.Mutex
	err  error
}

// dial is the client's DialContext: every connection goes to the socket through the host.
func (d *dialer) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	conn, err := d.h.DialUnix(ctx, d.path)
	if err != nil {
		d.mu.Lock()
		if d.err == nil {
			d.err = err
		}
		d.mu.Unlock()
	}
	return conn, err
}

// failure classifies an error of the API conversation.
func (d *dialer) failure(err error) *apiFailure {
	d.mu.Lock()
	dialErr := d.err
	d.mu.Unlock()
	if dialErr != nil {
		kind := classifyDial(dialErr)
		if kind == failOther && errors.Is(err, context.DeadlineExceeded) {
			kind = failTimeout
		}
		return &apiFailure{kind: kind, err: dialErr}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &apiFailure{kind: failTimeout, err: fmt.Errorf("the Docker Engine API at %s did not answer within %s", d.path, apiTimeout)}
	}
	return &apiFailure{kind: failOther, err: fmt.Errorf("ask the Docker Engine API at %s: %w", d.path, err)}
}

// askEngine asks the API through the first socket that answers. Sockets that refuse or
// deny the connection are passed over; the first failure is returned when none answers.
func askEngine(ctx context.Context, h host.Host, sockets []socketFile) (*engine, *apiFailure) {
	if len(sockets) == 0 {
		return nil, &apiFailure{kind: failNoSocket, err: errors.New("no Docker socket found at " +
			socketVarRun + ", " + socketRun + " or " + runUser + "/<uid>/docker.sock; the API is never asked over TCP")}
	}
	var first *apiFailure
	for _, s := range sockets {
		e, f := askSocket(ctx, h, s.path)
		if f == nil {
			return e, nil
		}
		if first == nil {
			first = f
		}
		if f.kind != failNotRunning && f.kind != failPermission {
			break
		}
	}
	return nil, first
}

// call runs one request with its own deadline.
func call[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	return fn(ctx)
}

// askSocket has the conversation with the daemon at path: /_ping, then /version, /info,
// /containers/json and /networks/bridge at once, and /containers/{id}/json for each
// running or created container as soon as the list is in.
func askSocket(ctx context.Context, h host.Host, path string) (*engine, *apiFailure) {
	d := &dialer{h: h, path: path}
	cli, err := client.NewClientWithOpts(client.WithHost("unix://"+path), client.WithDialContext(d.dial),
		client.WithAPIVersionNegotiation(), client.WithUserAgent("server-audit"))
	if err != nil {
		return nil, &apiFailure{kind: failOther, err: fmt.Errorf("Docker client for %s: %w", path, err)}
	}
	defer cli.Close()
	ping, err := call(ctx, cli.Ping)
	if err != nil {
		return nil, d.failure(err)
	}
	cli.NegotiateAPIVersionPing(ping)
	e := &engine{socket: path, apiVersion: cli.ClientVersion()}

	var wg sync.WaitGroup
	var versionErr, infoErr error
	wg.Add(4)
	go func() {
		defer wg.Done()
		v, err := call(ctx, cli.ServerVersion)
		if versionErr = err; err != nil {
			return
		}
		e.engineVersion = v.Version
		for _, c := range v.Components {
			switch strings.ToLower(c.Name) {
			case "engine":
				e.engineVersion = c.Version
			case "containerd":
				e.containerdVersion = c.Version
			case "runc":
				e.runcVersion = c.Version
			}
		}
	}()
	go func() {
		defer wg.Done()
		i, err := call(ctx, cli.Info)
		if infoErr = err; err != nil {
			return
		}
		e.info = engineInfo{securityOptions: i.SecurityOptions, loggingDriver: i.LoggingDriver, warnings: i.Warnings}
		if rc := i.RegistryConfig; rc != nil {
			for _, n := range rc.InsecureRegistryCIDRs {
				if n != nil {
					e.info.insecureCIDRs = append(e.info.insecureCIDRs, n.String())
				}
			}
			for name, idx := range rc.IndexConfigs {
				if idx != nil && !idx.Secure {
					e.info.insecureIndexes = append(e.info.insecureIndexes, name)
				}
			}
			slices.Sort(e.info.insecureIndexes)
		}
	}()
	go func() {
		// The inspections start as soon as the list is in, alongside /version and /info.
		defer wg.Done()
		list, err := call(ctx, func(ctx context.Context) ([]container.Summary, error) {
			return cli.ContainerList(ctx, container.ListOptions{All: true})
		})
		if e.containersErr = err; err == nil {
			e.inspectAll(ctx, cli, list)
		}
	}()
	go func() {
		defer wg.Done()
		n, err := call(ctx, func(ctx context.Context) (network.Inspect, error) {
			return cli.NetworkInspect(ctx, "bridge", network.InspectOptions{})
		})
		switch {
		case cerrdefs.IsNotFound(err):
		case err != nil:
			e.bridgeErr = err
		default:
			e.bridge = &bridgeNetwork{}
			if v, ok := n.Options["com.docker.network.bridge.enable_icc"]; ok {
				e.bridge.iccSet, e.bridge.icc = true, v == "true"
			}
		}
	}()
	wg.Wait()
	for _, err := range []error{versionErr, infoErr} {
		if err != nil {
			return nil, d.failure(err)
		}
	}
	return e, nil
}

// examined reports whether a container in this state is judged: running (also paused or
// restarting) and created ones, which start as configured.
func examined(state string) bool {
	switch state {
	case "running", "paused", "restarting", "created":
		return true
	}
	return false
}

// inspectAll inspects the running and created containers of list. A container removed
// meanwhile is left out; any other error makes the container checks error.
func (e *engine) inspectAll(ctx context.Context, cli *client.Client, list []container.Summary) {
	var ids []string
	for _, c := range list {
		if examined(string(c.State)) {
			ids = append(ids, c.ID)
		} else {
			e.skipped++
		}
	}
	if len(ids) > maxContainers {
		ids, e.truncated = ids[:maxContainers], true
	}
	out := make([]*containerInfo, len(ids))
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(inspectWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				resp, err := call(ctx, func(ctx context.Context) (container.InspectResponse, error) {
					return cli.ContainerInspect(ctx, ids[i])
				})
				switch {
				case cerrdefs.IsNotFound(err):
				case err != nil:
					errs[i] = fmt.Errorf("inspect container %s: %w", shortID(ids[i]), err)
				default:
					ci := fromInspect(resp)
					out[i] = &ci
				}
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			e.containersErr = err
			return
		}
	}
	for _, c := range out {
		if c != nil {
			e.containers = append(e.containers, *c)
		}
	}
	slices.SortFunc(e.containers, func(a, b containerInfo) int { return strings.Compare(a.name, b.name) })
}

// shortID is the 12-character form of a container id.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
