package ssh

import (
	"context"
	"errors"
	"io/fs"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/osrelease"
	"github.com/securecodehq/server-audit/checks/packages/pkgdb"
	"github.com/securecodehq/server-audit/checks/packages/vulndata"
	"github.com/securecodehq/server-audit/pkg/report"
)

// opensshPackages are the binary packages of OpenSSH the check judges: the server, and the
// client for ssh-agent and client-side flaws.
func opensshPackages() []string {
	return []string{"openssh-server", "openssh-client", "openssh-clients", "openssh"}
}

// vulnerableBuild: the OpenSSH build against the curated vulnerability data shared with
// packages.vulnerable-versions. Installed packages are judged by the distribution's fixed
// versions; an sshd without a package (built from source) by its version against upstream
// ranges. Conditions come from sshd's effective configuration.
type vulnerableBuild struct{ f *family }

// ID implements checks.Check.
func (vulnerableBuild) ID() string { return "ssh.vulnerable-build" }

// Run implements checks.Check.
func (c vulnerableBuild) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	s, err := c.f.memo.Get(ctx, h)
	if err != nil {
		return checks.Result{}, err
	}
	if !s.installed {
		return checks.Skip(report.ReasonNotInstalled, "sshd is not installed"), nil
	}
	data, err := vulndata.Load()
	if err != nil {
		return checks.Error(report.ReasonInternal, "the embedded vulnerability data is invalid: %v", err), nil
	}
	ev := &vulndata.Evaluator{FS: h.FS()}
	if s.cfg != nil {
		cfg := s.cfg
		ev.SSHD = func(key string) (string, bool) { return cfg.Get(key), cfg.Has(key) }
	}
	findings, source, res := opensshFindings(h, s, data)
	if res != nil {
		return *res, nil
	}
	out := vulndata.Result(ev.Assess(findings), "the OpenSSH packages or build").
		Version("openssh_version", s.version.Short()).Enum("version_source", source)
	if s.cfg != nil {
		out = out.Detail("exposure judged on %s", s.cfg.describe())
	}
	return out, nil
}

// opensshFindings matches the OpenSSH packages, or the sshd version when no package is
// installed. It returns a result instead when nothing can be judged.
func opensshFindings(h host.Host, s *state, data *vulndata.Data) ([]vulndata.Finding, string, *checks.Result) {
	fsys := h.FS()
	db, dbErr := pkgdb.Read(fsys)
	if dbErr != nil && !errors.Is(dbErr, fs.ErrNotExist) {
		r := checks.FromError("read the package database", dbErr)
		return nil, "", &r
	}
	if dbErr == nil {
		info, err := osrelease.Read(fsys)
		if err != nil {
			r := checks.FromError("read os-release", err)
			return nil, "", &r
		}
		target := vulndata.TargetOf(info.ID, info.IDLike, info.VersionID)
		var out []vulndata.Finding
		found := false
		for _, name := range opensshPackages() {
			for _, p := range db.Lookup(name) {
				found = true
				src, srcVersion := p.SourcePackage()
				in := vulndata.Installed{Name: p.Name, Version: p.Version, Source: src}
				if srcVersion != p.Version {
					in.SourceVersion = srcVersion
				}
				out = append(out, data.Match(in, target, db.Compare)...)
			}
		}
		if found {
			return out, "package", nil
		}
	}
	switch s.version.Source {
	case "sshd -V", "ssh -V", "binary":
		source := "sshd"
		if s.version.Source == "binary" {
			source = "binary"
		}
		return data.MatchUpstream("openssh-server", s.version.String()), source, nil
	}
	r := checks.Skip(report.ReasonNotFound, "no OpenSSH package is installed and the sshd version could not be read")
	return nil, "", &r
}
