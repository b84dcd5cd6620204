package checktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"

	"go.yaml.in/yaml/v3"

	"github.com/securecodehq/server-audit/checks/host"
)

// Socket is a Unix socket a live fixture host serves (fixture.yaml `sockets:`). In YAML it
// is either the name of a directory of canned Docker Engine API responses, relative to the
// fixture, or a mapping with one of the fields below:
//
//	sockets:
//	  /var/run/docker.sock: docker-api         # serve <fixture>/docker-api
//	  /run/docker.sock: {refuse: true}          # the socket exists, nothing listens
//	  /run/user/1000/docker.sock: {hang: true}  # accepts, reads, never answers
//
// The socket's path then stats as a socket (mode 0660, root:root unless `files:` says
// otherwise) and is listed in its directory; DialUnix connects to an in-process HTTP server
// over net.Pipe.
type Socket struct {
	// API is the directory of canned responses (see serveAPI for the file names).
	API string `yaml:"api"`
	// Refuse makes connecting fail with ECONNREFUSED, as when the daemon does not run.
	Refuse bool `yaml:"refuse"`
	// Hang accepts connections and reads requests without ever answering.
	Hang bool `yaml:"hang"`
}

// UnmarshalYAML accepts the directory name alone or the mapping form.
func (s *Socket) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&s.API)
	}
	type plain Socket
	return n.Decode((*plain)(s))
}

func (s Socket) validate() error {
	n := 0
	for _, set := range []bool{s.API != "", s.Refuse, s.Hang} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("set exactly one of api, refuse and hang")
	}
	if s.API != "" {
		if fi, err := os.Stat(s.API); err != nil || !fi.IsDir() {
			return fmt.Errorf("api directory %s does not exist", s.API)
		}
	}
	return nil
}

// socketServer serves one fixture socket.
type socketServer struct {
	spec Socket
	// apiVersion is sent in the Api-Version header (from version.json, default 1.41).
	apiVersion string
	once       sync.Once
	conns      chan net.Conn
}

// newSockets validates the fixture's sockets; API directories must be absolute or
// relative to the working directory (Load resolves them against the fixture).
func newSockets(specs map[string]Socket) (map[string]*socketServer, error) {
	out := map[string]*socketServer{}
	for p, s := range specs {
		if !path.IsAbs(p) || path.Clean(p) != p {
			return nil, fmt.Errorf("sockets %s: path must be absolute and clean", p)
		}
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("sockets %s: %w", p, err)
		}
		srv := &socketServer{spec: s, apiVersion: "1.41"}
		if s.API != "" {
			var v struct {
				APIVersion string `json:"ApiVersion"`
			}
			if data, err := os.ReadFile(filepath.Join(s.API, "version.json")); err == nil && json.Unmarshal(data, &v) == nil && v.APIVersion != "" {
				srv.apiVersion = v.APIVersion
			}
		}
		out[p] = srv
	}
	return out, nil
}

// dial connects to the socket.
func (s *socketServer) dial(_ context.Context, p string) (net.Conn, error) {
	if s.spec.Refuse {
		return nil, fmt.Errorf("connect %s: %w", p, &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	}
	client, server := net.Pipe()
	if s.spec.Hang {
		// Read whatever is sent, answer nothing; end when the client hangs up.
		go func() {
			_, _ = io.Copy(io.Discard, server)
			server.Close()
		}()
		return client, nil
	}
	s.once.Do(func() {
		s.conns = make(chan net.Conn)
		l := &pipeListener{conns: s.conns}
		go func() { _ = (&http.Server{Handler: http.HandlerFunc(s.serveAPI)}).Serve(l) }()
	})
	s.conns <- server
	return client, nil
}

// pipeListener hands the server ends of dialled pipes to an http.Server. It lives as long
// as the fixture host.
type pipeListener struct{ conns chan net.Conn }

func (l *pipeListener) Accept() (net.Conn, error) { return <-l.conns, nil }
func (l *pipeListener) Close() error              { return nil }
func (l *pipeListener) Addr() net.Addr            { return &net.UnixAddr{Name: "fixture", Net: "unix"} }

var apiVersionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

// serveAPI answers GET and HEAD requests from the canned directory: /_ping from the file
// _ping, and any other path P (after the /v1.NN prefix) from P.json, where a final /json
// element is dropped first — /version → version.json, /info → info.json,
// /containers/json → containers.json, /containers/<id>/json → containers/<id>.json,
// /networks/bridge → networks/bridge.json. Query strings are ignored. Anything else is
// 404 with the Engine's error body.
func (s *socketServer) serveAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", s.apiVersion)
	w.Header().Set("Ostype", "linux")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		apiError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	p := path.Clean("/" + r.URL.Path)
	p = "/" + apiVersionPrefix.ReplaceAllString(p, "")
	p = path.Clean(p)
	candidates := []string{strings.TrimSuffix(p, "/json") + ".json"}
	if p == "/_ping" {
		candidates = []string{"/_ping"}
	}
	for _, c := range candidates {
		data, err := os.ReadFile(filepath.Join(s.spec.API, filepath.FromSlash(c)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if c == "/_ping" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		_, _ = w.Write(data)
		return
	}
	apiError(w, http.StatusNotFound, "page not found")
}

func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// socketInfo is what Stat and Lstat report for a fixture socket.
func socketInfo(name string, m fileMeta) host.FileInfo {
	fi := host.FileInfo{Name: path.Base(name), Mode: fs.ModeSocket | 0o660}
	if m.mode != nil {
		fi.Mode = fs.ModeSocket | *m.mode
	}
	if m.uid != nil {
		fi.UID = *m.uid
	}
	if m.gid != nil {
		fi.GID = *m.gid
	}
	return fi
}

// socketNames adds the fixture sockets in dir to a directory listing.
func socketNames(sockets map[string]*socketServer, dir string, names []string) []string {
	for p := range sockets {
		if path.Dir(p) == dir && !slices.Contains(names, path.Base(p)) {
			names = append(names, path.Base(p))
		}
	}
	slices.Sort(names)
	return names
}
