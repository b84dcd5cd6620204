// Package checktest builds hosts from fixture trees and runs checks against them.
//
// A fixture is a directory with a fixture.yaml and a root/ tree (a partial filesystem:
// root/etc/..., and for live fixtures root/proc/... and root/sys/...). fixture.yaml holds
// what git cannot store and what the test expects:
//
//	description: hardened Debian 12 host
//	live: true              # root/proc and root/sys act as procfs and sysfs; commands answer
//	files:                  # modes and owners (default 0644/0755, root:root), injected errors
//	  /etc/shadow: {mode: "0640", uid: 0, gid: 42}
//	  /etc/gshadow: {error: permission}   # open/readdir fail; stat still works
//	commands:               # canned command outputs; unlisted commands are not installed
//	  - argv: [sshd, -T]
//	    stdout_file: commands/sshd-T.txt
//	    exit: 0
//	sockets:                # Unix sockets a live host serves (see Socket)
//	  /var/run/docker.sock: docker-api    # canned Docker Engine API in <fixture>/docker-api
//	  /run/docker.sock: {refuse: true}     # exists, nothing listens
//	  /run/user/1000/docker.sock: {hang: true}  # accepts, never answers
//	expect:                 # expected status per check
//	  system.aslr: pass
//
// A canned API directory holds _ping, version.json, info.json, containers.json,
// containers/<id>.json and networks/bridge.json (any request path P is answered from
// P.json, a final /json element dropped); the socket's mode and owner come from files:.
//
// Every fixture also has a golden.json with each check's full result; `go test -update`
// rewrites it.
package checktest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/securecodehq/server-audit/pkg/report"
)

// FileMeta overrides what a fixture file reports: permission bits (octal string, may
// include setuid/setgid/sticky), owner, or an injected error.
type FileMeta struct {
	Mode  string `yaml:"mode"`
	UID   *int   `yaml:"uid"`
	GID   *int   `yaml:"gid"`
	Error string `yaml:"error"` // permission | not_found | io
}

// Command is a canned command output.
type Command struct {
	Argv       []string `yaml:"argv"`
	Stdout     string   `yaml:"stdout"`
	StdoutFile string   `yaml:"stdout_file"`
	Stderr     string   `yaml:"stderr"`
	Exit       int      `yaml:"exit"`
	// Hang makes the command block until its deadline (ErrTimeout).
	Hang bool `yaml:"hang"`
}

// Spec is the content of fixture.yaml.
type Spec struct {
	Description string                   `yaml:"description"`
	Live        bool                     `yaml:"live"`
	Files       map[string]FileMeta      `yaml:"files"`
	Commands    []Command                `yaml:"commands"`
	Sockets     map[string]Socket        `yaml:"sockets"`
	Expect      map[string]report.Status `yaml:"expect"`
}

// Fixture is a loaded fixture.
type Fixture struct {
	// Name is the fixture's directory name.
	Name string
	// Dir is the fixture directory.
	Dir  string
	Spec Spec
	// Host is the host built from the fixture.
	Host *Host
}

// Load reads the fixture in dir.
func Load(dir string) (*Fixture, error) {
	data, err := os.ReadFile(filepath.Join(dir, "fixture.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load fixture: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var spec Spec
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("parse %s/fixture.yaml: %w", dir, err)
	}
	for id, st := range spec.Expect {
		if !st.Valid() {
			return nil, fmt.Errorf("%s/fixture.yaml: expect %s: unknown status %q", dir, id, st)
		}
	}
	for i, c := range spec.Commands {
		if len(c.Argv) == 0 {
			return nil, fmt.Errorf("%s/fixture.yaml: commands[%d]: empty argv", dir, i)
		}
		if c.StdoutFile != "" {
			out, err := os.ReadFile(filepath.Join(dir, c.StdoutFile))
			if err != nil {
				return nil, fmt.Errorf("%s/fixture.yaml: commands[%d]: %w", dir, i, err)
			}
			spec.Commands[i].Stdout = string(out)
		}
	}
	for p, s := range spec.Sockets {
		if s.API != "" && !filepath.IsAbs(s.API) {
			s.API = filepath.Join(dir, s.API)
			spec.Sockets[p] = s
		}
	}
	h, err := NewHost(filepath.Join(dir, "root"), spec)
	if err != nil {
		return nil, fmt.Errorf("%s/fixture.yaml: %w", dir, err)
	}
	return &Fixture{Name: filepath.Base(dir), Dir: dir, Spec: spec, Host: h}, nil
}

// LoadAll loads every fixture under dir (each subdirectory with a fixture.yaml), sorted by
// name.
func LoadAll(dir string) ([]*Fixture, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list fixtures: %w", err)
	}
	var out []*Fixture
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "fixture.yaml")); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		f, err := Load(sub)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type fileMeta struct {
	mode     *fs.FileMode
	uid, gid *uint32
	err      error
}

func (m FileMeta) parse() (fileMeta, error) {
	var fm fileMeta
	if m.Mode != "" {
		n, err := strconv.ParseUint(m.Mode, 8, 32)
		if err != nil || n > 0o7777 {
			return fm, fmt.Errorf("mode %q is not an octal permission", m.Mode)
		}
		mode := fs.FileMode(n & 0o777)
		if n&0o4000 != 0 {
			mode |= fs.ModeSetuid
		}
		if n&0o2000 != 0 {
			mode |= fs.ModeSetgid
		}
		if n&0o1000 != 0 {
			mode |= fs.ModeSticky
		}
		fm.mode = &mode
	}
	if m.UID != nil {
		u := uint32(*m.UID)
		fm.uid = &u
	}
	if m.GID != nil {
		g := uint32(*m.GID)
		fm.gid = &g
	}
	switch m.Error {
	case "":
	case "permission":
		fm.err = fs.ErrPermission
	case "not_found":
		fm.err = fs.ErrNotExist
	case "io":
		fm.err = errors.New("input/output error")
	default:
		return fm, fmt.Errorf("unknown error %q (want permission, not_found or io)", m.Error)
	}
	return fm, nil
}
