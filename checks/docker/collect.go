package docker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// collector reads the Docker state once per host and shares it among the checks.
type collector = checks.Memo[*state]

// newCollector returns a collector; getenv reads the agent's own environment (DOCKER_HOST),
// once per host.
func newCollector(getenv func(string) string) *collector {
	return checks.NewMemo(func(ctx context.Context, h host.Host) (*state, error) {
		return collect(ctx, h, getenv("DOCKER_HOST")), nil
	})
}

// state is everything the checks judge. Each part keeps its own error, so that a check
// needing only files still runs when the API cannot be asked.
type state struct {
	live bool
	// installed: a socket, a dockerd process, the dockerd binary or its unit exists.
	installed bool
	// evidence says why Docker counts as installed, for messages.
	evidence string

	// envHost is the agent's DOCKER_HOST when it names something other than a unix://
	// socket (reported, never dialled).
	envHost string

	// sockets are the Docker sockets found on disk.
	sockets []socketFile
	// daemons are the running dockerd processes.
	daemons []daemonProc
	// procErr is why processes could not be listed (offline root, no procfs).
	procErr error

	// api is the Engine's answer; apiErr why there is none.
	api    *engine
	apiErr *apiFailure
	// daemon is the dockerd process serving the socket asked (nil when none was found).
	daemon *daemonProc

	// conf is the effective configuration from daemon.json and the command line or unit;
	// confErr why it could not be read (a malformed daemon.json).
	conf    effectiveConfig
	confErr error

	// group is the docker group from /etc/group and /etc/passwd.
	group    dockerGroup
	groupErr error
}

// collect reads the state of h.
func collect(ctx context.Context, h host.Host, dockerHost string) *state {
	s := &state{live: h.Live()}
	fsys := h.FS()
	envSocket := ""
	if dockerHost != "" {
		if p, ok := strings.CutPrefix(dockerHost, "unix://"); ok && strings.HasPrefix(p, "/") {
			envSocket = p
		} else {
			s.envHost = dockerHost
		}
	}
	if proc, err := h.Proc(); err != nil {
		s.procErr = err
	} else {
		s.daemons, s.procErr = findDaemons(proc)
	}
	s.sockets = discoverSockets(fsys, envSocket, s.daemons)
	s.installed, s.evidence = installed(fsys, s.sockets, s.daemons)
	if !s.installed {
		return s
	}
	if s.live {
		s.api, s.apiErr = askEngine(ctx, h, s.sockets)
	} else {
		s.apiErr = &apiFailure{kind: failNotLive, err: fmt.Errorf("ask the Docker Engine API: %w", host.ErrNotLive)}
	}
	s.daemon = s.pickDaemon(fsys)
	s.conf, s.confErr = readConfig(fsys, s.daemon, s.rootlessUID(), s.live)
	s.group, s.groupErr = readDockerGroup(fsys)
	return s
}

// running reports whether a daemon runs: a dockerd process, or a socket that accepted.
func (s *state) running() bool {
	return len(s.daemons) > 0 || s.api != nil || (s.apiErr != nil && s.apiErr.kind == failTimeout)
}

// gate returns the result of a check whose prerequisites are missing, or nil.
func (s *state) gate(n need) *checks.Result {
	skip := func(reason report.Reason, format string, args ...any) *checks.Result {
		r := checks.Skip(reason, format, args...)
		if s.envHost != "" {
			r = r.Detail("DOCKER_HOST is %s, which the agent does not dial: checks never open network connections", s.envHost)
		}
		return &r
	}
	if !s.installed {
		return skip(report.ReasonNotInstalled, "Docker is not installed: no socket, no dockerd process, binary or unit")
	}
	switch n {
	case needFiles:
		return nil
	case needConfig:
		if s.live && !s.running() {
			return s.notRunning(skip)
		}
		if s.confErr != nil {
			r := checks.FromError("read the daemon configuration", s.confErr)
			return &r
		}
		return nil
	case needDaemon:
		if !s.live {
			if s.confErr != nil {
				r := checks.FromError("read the daemon configuration", s.confErr)
				return &r
			}
			return nil
		}
	}
	if s.api != nil {
		if n == needContainers && s.api.containersErr != nil {
			r := checks.FromError("list the containers", s.api.containersErr)
			return &r
		}
		return nil
	}
	switch s.apiErr.kind {
	case failNotLive:
		return skip(report.ReasonNotLive, "the Docker Engine API can only be asked on the running system")
	case failNotRunning:
		return s.notRunning(skip)
	case failNoSocket:
		if !s.running() {
			return s.notRunning(skip)
		}
		return skip(report.ReasonNotApplicable, "%s", s.apiErr.err.Error())
	case failPermission:
		return skip(report.ReasonNeedsRoot, "%s", s.apiErr.err.Error())
	case failTimeout:
		r := checks.Error(report.ReasonTimeout, "%s", s.apiErr.err.Error())
		return &r
	}
	r := checks.FromError("ask the Docker Engine API", s.apiErr.err)
	if r.Status == report.StatusSkip {
		r = checks.Error(report.ReasonIOError, "%s", r.Message)
	}
	return &r
}

// notRunning is the skip of a check that needs the daemon when it does not run.
func (s *state) notRunning(skip func(report.Reason, string, ...any) *checks.Result) *checks.Result {
	why := "no Docker socket exists"
	if s.apiErr != nil && s.apiErr.kind == failNotRunning {
		why = s.apiErr.err.Error()
	}
	if len(s.daemons) > 0 {
		return skip(report.ReasonNotRunning, "%s does not accept connections (%s)", s.daemons[0].label(), why)
	}
	return skip(report.ReasonNotRunning, "dockerd is not running (%s); its settings apply when it starts", why)
}

// failKind classifies why the API could not be asked.
type failKind int

const (
	failNotLive    failKind = iota // offline root
	failNotRunning                 // connecting was refused: nothing listens
	failNoSocket                   // no Docker socket was found
	failPermission                 // the socket refused the agent's user
	failTimeout                    // the socket accepted but did not answer in time
	failOther                      // anything else (a malformed answer, an HTTP error)
)

// apiFailure is why the Engine API gave no answer.
type apiFailure struct {
	kind failKind
	err  error
}

// classifyDial maps an error met connecting to a socket.
func classifyDial(err error) failKind {
	switch {
	case errors.Is(err, host.ErrNotLive):
		return failNotLive
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOENT):
		return failNotRunning
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return failPermission
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, host.ErrTimeout):
		return failTimeout
	}
	return failOther
}
