package nginx

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/securecodehq/server-audit/checks/host"
)

// hasMeta reports whether a pattern element has glob(3) wildcards.
func hasMeta(elem string) bool { return strings.ContainsAny(elem, "*?[") }

// matchElem matches one path element against one pattern element as glob(3) does: "[!"
// negates a class, and a leading "." must be matched by a literal ".".
func matchElem(pattern, name string) bool {
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pattern, ".") {
		return false
	}
	ok, err := path.Match(strings.ReplaceAll(pattern, "[!", "[^"), name)
	return err == nil && ok
}

// matchGlob matches a whole path against a pattern element by element; wildcards never
// match "/".
func matchGlob(pattern, name string) bool {
	pe, ne := strings.Split(pattern, "/"), strings.Split(name, "/")
	if len(pe) != len(ne) {
		return false
	}
	for i := range pe {
		if hasMeta(pe[i]) {
			if !matchElem(pe[i], ne[i]) {
				return false
			}
		} else if pe[i] != ne[i] {
			return false
		}
	}
	return true
}

// globFS expands an include pattern on the audited filesystem the way glob(3) does for
// nginx: wildcards may appear in any element, names keep the pattern's spelling (nginx
// prints and opens them so), unreadable or missing directories match nothing, and the
// result is sorted bytewise (nginx runs in the C locale).
func globFS(fsys host.FS, pattern string) ([]string, error) {
	elems := strings.Split(pattern, "/")
	cands := []string{elems[0]}
	// listed: the candidates came from directory listings after the last literal element,
	// so they exist; a literal tail must be checked.
	listed := false
	for _, e := range elems[1:] {
		listed = hasMeta(e)
		var next []string
		for _, c := range cands {
			if !hasMeta(e) {
				next = append(next, c+"/"+e)
				continue
			}
			dir := c
			if dir == "" {
				dir = "/"
			}
			names, err := fsys.ReadDir(dir)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, host.ErrNotRegular) {
					continue
				}
				return nil, err
			}
			for _, n := range names {
				if matchElem(e, n) {
					next = append(next, c+"/"+n)
				}
			}
			if len(next) > maxFiles {
				return nil, &fs.PathError{Op: "glob", Path: pattern, Err: host.ErrTooLarge}
			}
		}
		cands = next
	}
	var out []string
	for _, c := range cands {
		if listed {
			out = append(out, c)
		} else if _, err := fsys.Lstat(c); err == nil {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}
