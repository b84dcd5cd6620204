package packages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/checks/packages/dpkgver"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// staleListDays is the age past which the lists under-count pending updates.
const staleListDays = 7

// aptState is what the local apt lists say about pending security updates.
type aptState struct {
	// releases are the suites whose Release or InRelease file is present.
	releases []releaseFile
	// securityLists counts the Packages indexes of security suites read.
	securityLists int
	// updates are the installed packages a security suite has a newer version of.
	updates []pendingUpdate
	// notes are remarks for the details (an index in an unsupported compression).
	notes []string
	err   error
}

// pendingUpdate is an installed package with a newer version in a security suite.
type pendingUpdate struct {
	name, arch, installed, candidate, suite string
}

// collectAptLists reads the security suites' Packages indexes and compares them with the
// installed dpkg packages. A package has a pending security update when a security suite
// offers a version newer than the installed one (for the same architecture, or "all"); the
// candidate is the newest such version. That is how update-notifier's apt-check counts
// security updates; `apt-get upgrade` additionally keeps back packages whose new version
// needs new dependencies, and would take an even newer version from a non-security suite if
// one existed (such an update is still a pending security fix). Only security indexes are
// decompressed: the release suite's index is tens of megabytes.
func collectAptLists(ctx context.Context, h host.Host, inv *inventory) (*aptState, error) {
	st := &aptState{}
	fsys := h.FS()
	names, err := fsys.ReadDir(aptListsDir)
	if err != nil {
		st.err = err
		return st, nil
	}
	byPrefix := map[string]releaseFile{}
	for _, n := range names {
		var prefix string
		switch {
		case strings.HasSuffix(n, "_InRelease"):
			prefix = strings.TrimSuffix(n, "InRelease")
		case strings.HasSuffix(n, "_Release"):
			prefix = strings.TrimSuffix(n, "Release")
			if _, ok := byPrefix[prefix]; ok {
				continue // InRelease wins
			}
		default:
			continue
		}
		p := aptListsDir + "/" + n
		data, err := host.ReadFileLimit(fsys, p, 16<<20)
		if err != nil {
			st.err = err
			return st, nil
		}
		r, err := parseRelease(data)
		if err != nil {
			st.err = fmt.Errorf("parse %s: %w", p, err)
			return st, nil
		}
		fi, err := fsys.Stat(p)
		if err != nil {
			st.err = err
			return st, nil
		}
		r.name, r.prefix, r.mtime = n, prefix, fi.ModTime
		byPrefix[prefix] = r
	}
	for _, r := range byPrefix {
		st.releases = append(st.releases, r)
	}
	slices.SortFunc(st.releases, func(a, b releaseFile) int { return strings.Compare(a.name, b.name) })
	if inv.dbErr != nil || inv.db == nil {
		return st, nil
	}
	best := map[string]pendingUpdate{}
	for _, n := range names {
		if !isPackagesList(n) {
			continue
		}
		rel, ok := releaseOf(st.releases, n)
		if !ok || !rel.security() {
			continue
		}
		if err := ctx.Err(); err != nil {
			st.err = err
			return st, nil
		}
		err := readList(fsys, aptListsDir+"/"+n, func(e listEntry) {
			for _, p := range inv.lookup(e.name) {
				if e.arch != "" && p.Arch != "" && e.arch != p.Arch {
					continue
				}
				if dpkgver.Compare(e.version, p.Version) <= 0 {
					continue
				}
				key := p.Name + ":" + p.Arch
				if cur, ok := best[key]; ok && dpkgver.Compare(cur.candidate, e.version) >= 0 {
					continue
				}
				best[key] = pendingUpdate{name: p.Name, arch: p.Arch, installed: p.Version, candidate: e.version, suite: rel.describe()}
			}
		})
		if errors.Is(err, errors.ErrUnsupported) {
			st.notes = append(st.notes, err.Error())
			continue
		}
		st.securityLists++
		if err != nil {
			st.err = fmt.Errorf("parse %s/%s: %w", aptListsDir, n, err)
			return st, nil
		}
	}
	for _, u := range best {
		st.updates = append(st.updates, u)
	}
	slices.SortFunc(st.updates, func(a, b pendingUpdate) int {
		return strings.Compare(a.name+":"+a.arch, b.name+":"+b.arch)
	})
	return st, nil
}

// releaseOf finds the suite a list file belongs to: the release whose prefix is the
// longest prefix of the file name.
func releaseOf(releases []releaseFile, list string) (releaseFile, bool) {
	var best releaseFile
	found := false
	for _, r := range releases {
		if strings.HasPrefix(list, r.prefix) && len(r.prefix) > len(best.prefix) {
			best, found = r, true
		}
	}
	return best, found
}

// listAge is the age in days of the newest Release file among the security suites (all
// suites when there is none): how long ago apt-get update last fetched them.
func (st *aptState) listAge(f *family) (int64, bool) {
	var newest releaseFile
	found := false
	for _, security := range []bool{true, false} {
		for _, r := range st.releases {
			if r.security() == security && (!found || r.mtime.After(newest.mtime)) {
				newest, found = r, true
			}
		}
		if found {
			break
		}
	}
	if !found {
		return 0, false
	}
	return max(0, daysBetween(newest.mtime, f.now())), true
}

// securityUpdates: installed packages with a fix waiting in the security suite.
func securityUpdates(ctx context.Context, f *family, h host.Host) (checks.Result, error) {
	inv, _ := f.inv.Get(ctx, h)
	if inv.osErr != nil {
		return checks.FromError("read os-release", inv.osErr), nil
	}
	if !inv.debianLike() {
		return checks.Skip(report.ReasonNotSupported, "pending security updates are computed from apt's lists; %s uses another package manager whose metadata is not read", inv.os.ID).
			Enum("distro", distroEnum(inv.os.ID)), nil
	}
	if inv.dbErr != nil {
		return checks.FromError("read the package database", inv.dbErr), nil
	}
	st, _ := f.apt.Get(ctx, h)
	if st.err != nil {
		if errors.Is(st.err, fs.ErrNotExist) {
			return checks.Skip(report.ReasonNotFound, "%s does not exist: apt has never fetched package lists", aptListsDir), nil
		}
		return checks.FromError("read the apt lists", st.err), nil
	}
	if len(st.releases) == 0 {
		return checks.Skip(report.ReasonNotFound, "no package lists in %s: run apt-get update", aptListsDir), nil
	}
	suites := 0
	for _, r := range st.releases {
		if r.security() {
			suites++
		}
	}
	age, _ := st.listAge(f)
	stale := age > staleListDays
	var watched []string
	for _, u := range st.updates {
		if w := watchName(u.name); w != "" && !slices.Contains(watched, w) {
			watched = append(watched, w)
		}
	}
	var res checks.Result
	switch {
	case suites == 0:
		return checks.Skip(report.ReasonNotApplicable, "the apt lists hold no security suite, so pending security updates cannot be computed (see packages.security-repository)").
			Int("list_age_days", clampDays(age)).Bool("stale", stale), nil
	case len(st.updates) > 0:
		res = checks.Fail("%d installed package(s) have a pending security update", len(st.updates))
		if stale {
			res = res.Detail("the lists are %d days old: more updates are probably pending", age)
		}
	case stale:
		res = checks.Fail("no pending security update in lists that are %d days old: run apt-get update, the count is probably too low", age).
			WithSeverity(catalog.SeverityMedium)
	default:
		res = checks.Pass("no pending security update (lists %d day(s) old)", age)
	}
	for _, u := range st.updates {
		res = res.Detail("%s:%s %s → %s (%s)", u.name, u.arch, u.installed, u.candidate, u.suite)
	}
	for _, n := range st.notes {
		res = res.Detail("skipped: %s", n)
	}
	slices.Sort(watched)
	return res.Int("pending", int64(len(st.updates))).Int("list_age_days", clampDays(age)).Bool("stale", stale).
		Int("security_suites", int64(suites)).Enums("watched_packages", orEmpty(watched)), nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
