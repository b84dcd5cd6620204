package pkgdb

import (
	"errors"
	"io"

	"github.com/securecodehq/server-audit/checks/host"
)

// readAPK reads apk's installed database.
func readAPK(fsys host.FS, path string) (*DB, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pkgs, err := parseAPKInstalled(f, path)
	if err != nil {
		return nil, err
	}
	return &DB{Manager: APK, Packages: pkgs, Path: path}, nil
}

// parseAPKInstalled parses apk's installed database: one block of "K:value" lines per
// package, blocks separated by blank lines. The reader uses P (name), V (version), A (arch)
// and o (origin, the source package); file lists and checksums are skipped.
func parseAPKInstalled(r io.Reader, name string) ([]Package, error) {
	lr := newLineReader(r, name)
	var (
		pkgs   []Package
		cur    Package
		origin string
		start  int
		lines  int
	)
	finish := func() error {
		if lines == 0 {
			return nil
		}
		switch {
		case cur.Name == "":
			return lr.errorfAt(start, "package block without a P: line")
		case cur.Version == "":
			return lr.errorfAt(start, "package %q without a V: line", cur.Name)
		}
		if origin != cur.Name {
			cur.Source = origin
		}
		pkgs = append(pkgs, cur)
		cur, origin, lines = Package{}, "", 0
		return nil
	}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if err := finish(); err != nil {
				return nil, err
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			return nil, lr.errorf("expected \"K:value\"")
		}
		if lines == 0 {
			start = lr.n
		}
		lines++
		switch line[0] {
		case 'P':
			cur.Name = string(line[2:])
		case 'V':
			cur.Version = string(line[2:])
		case 'A':
			cur.Arch = string(line[2:])
		case 'o':
			origin = string(line[2:])
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return pkgs, nil
}
