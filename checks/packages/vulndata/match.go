package vulndata

import (
	"regexp"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks/packages/dpkgver"
)

// Installed is one installed binary package, as the package database records it.
type Installed struct {
	// Name is the binary package name ("openssh-server").
	Name string
	// Version is its version in the package manager's syntax.
	Version string
	// Source and SourceVersion name the source package when it differs from Name/Version.
	Source        string
	SourceVersion string
}

// sourceName is the source package of p (its own name when none is recorded).
func (p Installed) sourceName() string {
	if p.Source != "" {
		return p.Source
	}
	return p.Name
}

// compared is the version compared with a distribution's fixed version: the source
// version when one is recorded (a binNMU or a differently versioned binary), else Version.
func (p Installed) compared() string {
	if p.SourceVersion != "" {
		return p.SourceVersion
	}
	return p.Version
}

// Target is the audited system as the list names it.
type Target struct {
	// Family is the distribution family of the entries ("debian", "ubuntu", "rhel", …).
	Family string
	// Release is the release the entries name ("12", "22.04", "9").
	Release string
	// ID is the os-release ID itself ("rocky"), for Any entries' exceptions.
	ID string
}

// TargetOf maps os-release fields to the list's distribution family and release. RHEL
// rebuilds (Rocky, AlmaLinux, CentOS, Oracle Linux) share RHEL's entries: they ship the same
// source versions. A distribution the list does not know gets an empty family, so only
// upstream and "any" entries apply to it.
func TargetOf(id string, idLike []string, versionID string) Target {
	t := Target{ID: id}
	major, _, _ := strings.Cut(versionID, ".")
	switch id {
	case "debian":
		t.Family, t.Release = "debian", major
	case "ubuntu":
		t.Family, t.Release = "ubuntu", versionID
	case "rhel", "rocky", "almalinux", "centos", "ol":
		t.Family, t.Release = "rhel", major
	case "fedora":
		t.Family, t.Release = "fedora", major
	case "amzn":
		t.Family, t.Release = "amzn", major
	case "alpine":
		parts := strings.SplitN(versionID, ".", 3)
		t.Family = "alpine"
		if len(parts) >= 2 {
			t.Release = parts[0] + "." + parts[1]
		}
	default:
		// A derivative (ID_LIKE) has its own release numbers: none of the entries apply.
		_ = idLike
	}
	return t
}

// Finding is an installed package that an entry says is vulnerable.
type Finding struct {
	Entry Entry
	// Package is the installed binary package (or component) name.
	Package string
	// Installed is the version that was compared.
	Installed string
	// Upstream is true when the version was judged as a non-distribution build.
	Upstream bool
}

// Match returns the entries that say p is vulnerable on t. Distribution entries apply to
// the distribution's own builds and compare with cmp (the distribution's version ordering);
// upstream entries apply to builds the distribution did not make and compare upstream
// versions; "any" entries compare the upstream part of every build with their exact list.
func (d *Data) Match(p Installed, t Target, cmp func(a, b string) int) []Finding {
	distro := DistroBuild(p.Name, p.Version)
	var out []Finding
	for _, e := range d.Entries {
		if !e.names(p) {
			continue
		}
		switch e.Distribution {
		case Any:
			if slices.Contains(e.Except, t.ID) || slices.Contains(e.Except, t.Family) {
				continue
			}
			if slices.Contains(e.Versions, exactUpstream(p.Version)) {
				out = append(out, Finding{Entry: e, Package: p.Name, Installed: p.Version, Upstream: !distro})
			}
		case Upstream:
			if !distro && e.upstreamAffected(UpstreamVersion(p.Version)) {
				out = append(out, Finding{Entry: e, Package: p.Name, Installed: p.Version, Upstream: true})
			}
		default:
			if !distro || e.Distribution != t.Family || e.Release != t.Release || cmp == nil {
				continue
			}
			v := p.compared()
			if cmp(v, e.Fixed) >= 0 || (e.Introduced != "" && cmp(v, e.Introduced) < 0) {
				continue
			}
			out = append(out, Finding{Entry: e, Package: p.Name, Installed: v})
		}
	}
	return out
}

// MatchUpstream returns the upstream and "any" entries that say an upstream version of
// name (an sshd built from source, the runc an Engine reports) is vulnerable.
func (d *Data) MatchUpstream(name, version string) []Finding {
	v := UpstreamVersion(version)
	var out []Finding
	for _, e := range d.Entries {
		if e.Package != name && !slices.Contains(e.Binaries, name) {
			continue
		}
		switch {
		case e.Distribution == Upstream && e.upstreamAffected(v),
			e.Distribution == Any && slices.Contains(e.Versions, exactUpstream(version)):
			out = append(out, Finding{Entry: e, Package: name, Installed: version, Upstream: true})
		}
	}
	return out
}

// Applicable counts the entries that can apply on t (its distribution release, upstream
// and "any" entries).
func (d *Data) Applicable(t Target) int {
	n := 0
	for _, e := range d.Entries {
		switch {
		case e.Distribution == Upstream, e.Distribution == Any:
			n++
		case e.Distribution == t.Family && e.Release == t.Release:
			n++
		}
	}
	return n
}

// names reports whether e is about p: its source (or own) name is the entry's package,
// restricted to the entry's binaries when it lists some.
func (e Entry) names(p Installed) bool {
	if e.Package != p.sourceName() && e.Package != p.Name {
		return false
	}
	return len(e.Binaries) == 0 || slices.Contains(e.Binaries, p.Name)
}

func (e Entry) upstreamAffected(v string) bool {
	if v == "" {
		return false
	}
	if UpstreamCompare(v, UpstreamVersion(e.Fixed)) >= 0 {
		return false
	}
	return e.Introduced == "" || UpstreamCompare(v, UpstreamVersion(e.Introduced)) >= 0
}

// nonDistroNames are packages no distribution builds: Docker's own packages.
func nonDistroNames() []string {
	return []string{"docker-ce", "docker-ce-cli", "docker-ee", "containerd.io", "docker-ce-rootless-extras"}
}

// thirdPartyRevision matches package revisions of vendor repositories: nginx.org
// ("1.25.3-1~bookworm", "1.25.3-1.el9.ngx"), Docker ("5:24.0.7-1~debian.12~bookworm",
// "24.0.7-1.el9") and similar "~<codename>" builds.
var thirdPartyRevision = regexp.MustCompile(`-\d+~[a-z]+$|~(debian|ubuntu|raspbian)[.-]|\.ngx$|\.ngx\.|~(bookworm|bullseye|buster|trixie|jammy|focal|noble|bionic)$`)

// DistroBuild reports whether the installed package is the distribution's own build. Debian
// and Ubuntu builds carry a Debian revision ("-2+deb12u3", "-3ubuntu13.3"); vendor
// repositories mark theirs with "~<codename>" suffixes or ".ngx"; Docker's packages have
// names no distribution uses. Anything else counts as the distribution's build, so that an
// upstream range never overrides a backported fix.
func DistroBuild(name, version string) bool {
	if slices.Contains(nonDistroNames(), name) {
		return false
	}
	return !thirdPartyRevision.MatchString(version)
}

// prerelease matches "-rc93", "-beta2", "-alpha1" suffixes of upstream versions.
var prerelease = regexp.MustCompile(`-(rc|beta|alpha|pre)(\d*)`)

// UpstreamVersion extracts the upstream part of a package or component version: no epoch,
// no packaging revision, no "+dfsg"/"+ds" repack suffix, a leading "v" dropped and "-rc"
// pre-releases written "~rc" so that they sort before the release.
// "5:24.0.7-1~debian.12~bookworm" → "24.0.7", "1:9.2p1-2+deb12u3" → "9.2p1",
// "1.0.0-rc93" → "1.0.0~rc93", "v1.1.12" → "1.1.12", "9.7_p1-r4" → "9.7p1".
func UpstreamVersion(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i >= 0 && i < 4 {
		v = v[i+1:]
	}
	v = strings.TrimPrefix(v, "v")
	v = prerelease.ReplaceAllString(v, "~$1$2")
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	return strings.ReplaceAll(v, "_p", "p")
}

// exactUpstream is the upstream part of a version with its suffixes kept: no epoch, no
// packaging revision. "5.6.1-1" → "5.6.1", but "5.6.1+really5.4.5-1" stays
// "5.6.1+really5.4.5": a rebuild of other sources under a higher version number.
func exactUpstream(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i >= 0 && i < 4 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	return strings.TrimPrefix(v, "v")
}

// UpstreamCompare orders upstream versions ("9.2p1" < "9.10p1", "1.0.0~rc93" < "1.0.0"),
// with dpkg's rules, which suit upstream version strings too.
func UpstreamCompare(a, b string) int { return dpkgver.Compare(a, b) }
