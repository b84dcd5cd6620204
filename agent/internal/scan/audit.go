package scan

import (
	"context"
	"runtime"
	"strings"
	"time"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/osrelease"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/version"
)

// Audit runs list against h and assembles the local report: audit id, agent and host
// description, results and summary. root is the audited directory as the user gave it.
func Audit(ctx context.Context, h host.Host, root string, cat *catalog.Catalog, list []checks.Check, opts Options) (*report.Report, error) {
	start := time.Now()
	id, err := report.NewAuditID(start)
	if err != nil {
		return nil, err
	}
	results := Run(ctx, h, cat, list, opts)
	build := version.Get()
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		AuditID:       id,
		Agent:         report.Agent{Version: build.Version, Commit: build.Commit},
		StartedAt:     start.UTC().Truncate(time.Second),
		DurationMS:    time.Since(start).Milliseconds(),
		Host:          describeHost(h, root),
		Results:       results,
	}
	r.Summary = report.Summarize(results)
	return r, nil
}

// describeHost fills the report's host description. Everything here except OS, arch,
// distribution, version and kernel stays local.
func describeHost(h host.Host, root string) report.Host {
	desc := report.Host{Root: root, Live: h.Live(), OS: "linux"}
	if h.Live() {
		desc.Arch = runtime.GOARCH
	}
	if info, err := osrelease.Read(h.FS()); err == nil {
		desc.Distro, desc.DistroVersion, desc.DistroName = info.ID, info.VersionID, info.PrettyName
	}
	if proc, err := h.Proc(); err == nil {
		desc.Kernel = readLine(proc, "/sys/kernel/osrelease")
		desc.Hostname = readLine(proc, "/sys/kernel/hostname")
	}
	if desc.Hostname == "" {
		desc.Hostname = readLine(h.FS(), "/etc/hostname")
	}
	return desc
}

func readLine(fsys host.FS, name string) string {
	data, err := host.ReadFileLimit(fsys, name, 4096)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(line)
}
