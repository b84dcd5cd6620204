// Package version holds the build's version, commit and date, stamped with -ldflags -X.
package version

import "runtime/debug"

// These are set at link time:
//
//	-X github.com/securecodehq/server-audit/pkg/version.Version=1.2.3
//
// They are variables only because the linker can set nothing else; nothing assigns them at
// run time.
var (
	// Version is the release version, "dev" for unreleased builds.
	Version = "dev"
	// Commit is the git commit the binary was built from.
	Commit = ""
	// Date is the build date (RFC 3339), taken from the commit for reproducible builds.
	Date = ""
)

// Info describes the running build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"go_version"`
}

// Get returns the build information, filling the commit from the Go build info when the
// linker did not set it.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.GoVersion = bi.GoVersion
		if info.Commit == "" {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Commit = s.Value
				}
			}
		}
	}
	return info
}
