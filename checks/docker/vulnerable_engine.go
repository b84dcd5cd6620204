package docker

import (
	"context"
	"errors"
	"io/fs"
	"regexp"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/osrelease"
	"github.com/securecodehq/server-audit/checks/packages/pkgdb"
	"github.com/securecodehq/server-audit/checks/packages/vulndata"
	"github.com/securecodehq/server-audit/pkg/report"
)

// runtimePackages are the container runtime packages judged: distribution builds (runc,
// containerd, docker.io, moby-*) and Docker's own (containerd.io, docker-ce).
func runtimePackages() []string {
	return []string{"runc", "containerd", "docker.io", "moby-runc", "moby-containerd", "moby-engine", "containerd.io", "docker-ce"}
}

// distroRepack matches version strings of distribution builds as the Engine API reports
// them ("20.10.24+dfsg1", "1.1.5+ds1", "1.1.12-0ubuntu3").
var distroRepack = regexp.MustCompile(`\+(dfsg|ds)\d*|ubuntu|deb\d+u\d+|\.el\d+|\.fc\d+|\.amzn`)

// runVulnerableEngine judges the runtime packages with the curated vulnerability data, and
// the Engine API's runc and Engine versions when they are not distribution packages.
func runVulnerableEngine(_ context.Context, h host.Host, s *state) checks.Result {
	data, err := vulndata.Load()
	if err != nil {
		return checks.Error(report.ReasonInternal, "the embedded vulnerability data is invalid: %v", err)
	}
	fsys := h.FS()
	var findings []vulndata.Finding
	judged := map[string]bool{} // package names judged from the package database
	fromPackages := false
	db, dbErr := pkgdb.Read(fsys)
	if dbErr != nil && !errors.Is(dbErr, fs.ErrNotExist) {
		return checks.FromError("read the package database", dbErr)
	}
	if dbErr == nil {
		info, err := osrelease.Read(fsys)
		if err != nil {
			return checks.FromError("read os-release", err)
		}
		target := vulndata.TargetOf(info.ID, info.IDLike, info.VersionID)
		for _, name := range runtimePackages() {
			for _, p := range db.Lookup(name) {
				judged[name], fromPackages = true, true
				src, srcVersion := p.SourcePackage()
				in := vulndata.Installed{Name: p.Name, Version: p.Version, Source: src}
				if srcVersion != p.Version {
					in.SourceVersion = srcVersion
				}
				findings = append(findings, data.Match(in, target, db.Compare)...)
			}
		}
	}
	fromAPI := false
	var engineVersion, runcVersion string
	if s.api != nil {
		engineVersion, runcVersion = s.api.engineVersion, s.api.runcVersion
		runcPackaged := judged["runc"] || judged["moby-runc"] || judged["containerd.io"]
		if runcVersion != "" && !runcPackaged && !distroRepack.MatchString(runcVersion) {
			findings = append(findings, data.MatchUpstream("runc", runcVersion)...)
			fromAPI = true
		}
		enginePackaged := judged["docker.io"] || judged["docker-ce"] || judged["moby-engine"]
		if engineVersion != "" && !enginePackaged && !distroRepack.MatchString(engineVersion) {
			findings = append(findings, data.MatchUpstream("docker-ce", engineVersion)...)
			fromAPI = true
		}
	}
	if !fromPackages && !fromAPI {
		if s.api == nil && s.live {
			return checks.Skip(report.ReasonNotFound, "no container runtime package is installed and the Engine API could not be asked for versions")
		}
		if s.api == nil {
			return checks.Skip(report.ReasonNotFound, "no container runtime package is installed (an offline root has no Engine API to ask)")
		}
	}
	source := "packages"
	switch {
	case fromAPI && fromPackages:
		source = "both"
	case fromAPI:
		source = "api"
	}
	ev := &vulndata.Evaluator{FS: fsys}
	res := vulndata.Result(ev.Assess(findings), "the container runtime").Enum("version_source", source)
	if engineVersion != "" {
		res = res.Version("engine_version", truncateVersion(engineVersion))
	}
	if runcVersion != "" {
		res = res.Version("runc_version", truncateVersion(runcVersion))
	}
	if s.api == nil && s.apiErr != nil && s.live {
		res = res.Detail("the Engine API gave no versions: %v", s.apiErr.err)
	}
	return res
}

// truncateVersion keeps a reported version within the version fact grammar's length.
func truncateVersion(v string) string {
	if len(v) > 64 {
		v = v[:64]
	}
	return v
}
