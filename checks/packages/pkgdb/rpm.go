package pkgdb

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// readRPMSQLite reads rpm's SQLite database (rpm 4.16+: RHEL 9, Fedora 33+, Amazon Linux
// 2023): the Packages table maps a header number to the header blob.
func readRPMSQLite(fsys host.FS, path string) (*DB, error) {
	f, err := openDBFile(fsys, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var wal *dbFile
	switch w, err := openDBFile(fsys, path+"-wal"); {
	case err == nil:
		defer w.Close()
		wal = w
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	pkgs, err := rpmFromSQLite(f, wal)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &DB{Manager: RPM, Packages: pkgs, Path: path}, nil
}

// rpmFromSQLite decodes every header of the Packages table.
func rpmFromSQLite(f, wal *dbFile) ([]Package, error) {
	db, err := openSQLite(f, wal)
	if err != nil {
		return nil, err
	}
	root, err := db.tableRoot("Packages")
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	err = db.scanTable(root, func(rowid int64, payload []byte) error {
		cols, err := decodeRecord(payload, 2)
		if err != nil {
			return fmt.Errorf("Packages row %d: %w", rowid, err)
		}
		if len(cols) < 2 || cols[1].kind != 'b' {
			return corrupt("Packages row %d: no header blob", rowid)
		}
		return addRPM(&pkgs, int64(rowid), cols[1].b)
	})
	if err != nil {
		return nil, fmt.Errorf("Packages table: %w", err)
	}
	return pkgs, nil
}

// readRPMBerkeley reads rpm's Berkeley DB Packages database (rpm up to 4.15: RHEL/CentOS 7
// and 8, Amazon Linux 2): a hash from a 4-byte header number in the machine's byte order
// to the header blob; number 0 holds the last number used and is skipped.
func readRPMBerkeley(fsys host.FS, path string) (*DB, error) {
	f, err := openDBFile(fsys, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pkgs, err := rpmFromBerkeley(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &DB{Manager: RPM, Packages: pkgs, Path: path}, nil
}

// rpmFromBerkeley decodes every header of a Packages hash database, in header number order.
func rpmFromBerkeley(f *dbFile) ([]Package, error) {
	db, err := openBDBHash(f)
	if err != nil {
		return nil, err
	}
	type numbered struct {
		n int64
		p Package
	}
	var list []numbered
	err = db.each(func(key, data []byte) error {
		if len(key) != 4 {
			return corrupt("key of %d bytes, not a 4-byte header number", len(key))
		}
		n := int64(db.order.Uint32(key))
		if n == 0 {
			return nil
		}
		var one []Package
		if err := addRPM(&one, n, data); err != nil {
			return err
		}
		for _, p := range one {
			list = append(list, numbered{n, p})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b numbered) int { return cmp.Compare(a.n, b.n) })
	pkgs := make([]Package, len(list))
	for i, x := range list {
		pkgs[i] = x.p
	}
	return pkgs, nil
}

// addRPM decodes header number n and appends its package, skipping gpg-pubkey.
func addRPM(pkgs *[]Package, n int64, blob []byte) error {
	p, err := rpmPackage(blob)
	if errors.Is(err, errPubkey) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("header %d: %v: %w", n, err, checks.ErrParse)
	}
	*pkgs = append(*pkgs, p)
	return nil
}

// readRPMNDB refuses rpm's NDB format (SUSE since SLES 15 SP3 and openSUSE): not
// implemented.
func readRPMNDB(_ host.FS, path string) (*DB, error) {
	return nil, fmt.Errorf("read %s: rpm's NDB database format is not supported: %w", path, errors.ErrUnsupported)
}
