package pkgdb

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

const (
	// maxTextDB caps the dpkg and apk databases. A host with 1,500 packages has a 2–5 MB
	// dpkg status file; host.MaxFileSize (8 MiB) would be too tight for large desktops.
	maxTextDB = 64 << 20
	// maxLine caps one line of a text database.
	maxLine = 1 << 20
	// maxBuffered caps a binary database read whole into memory, which happens only when
	// the file system gives no random access (real files always do).
	maxBuffered = 64 << 20
	// maxHeader caps one rpm header blob (the largest real ones, kernel module and
	// documentation packages with tens of thousands of files, are a few MiB).
	maxHeader = 64 << 20
	// windowSize is the default read-ahead of binary databases; readers that know how
	// much they will read sequentially (an overflow chain, a scan) ask for up to
	// maxWindow instead. Chains are usually contiguous, so one read serves many pages.
	windowSize = 64 << 10
	maxWindow  = 1 << 20
)

// dbFile is a binary database file opened for random access.
type dbFile struct {
	name   string
	r      io.ReaderAt
	size   int64
	closer io.Closer
	// mem is the whole file when it is in memory; reads then need no copy.
	mem []byte
	// win holds bytes [winOff, winOff+len(win)) of the file.
	win    []byte
	winOff int64
}

// sizer is implemented by *os.File.
type sizer interface {
	Stat() (fs.FileInfo, error)
}

// openDBFile opens name for random access. Files of the host FS are *os.File; anything
// else is read whole, up to maxBuffered bytes.
func openDBFile(fsys host.FS, name string) (*dbFile, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if ra, ok := f.(io.ReaderAt); ok {
		if st, ok := f.(sizer); ok {
			fi, err := st.Stat()
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("stat %s: %w", name, err)
			}
			return &dbFile{name: name, r: ra, size: fi.Size(), closer: f}, nil
		}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBuffered+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxBuffered {
		return nil, fmt.Errorf("read %s: %w of %d bytes", name, host.ErrTooLarge, maxBuffered)
	}
	return newMemFile(name, data), nil
}

// corrupt builds a parse error of a binary database.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), checks.ErrParse)
}

// newMemFile wraps bytes already in memory (tests, fuzzing).
func newMemFile(name string, data []byte) *dbFile {
	return &dbFile{name: name, r: bytes.NewReader(data), size: int64(len(data)), closer: io.NopCloser(nil), mem: data}
}

func (f *dbFile) Close() error { return f.closer.Close() }

// clone returns a reader of the same file with a window of its own, so that following an
// overflow chain does not evict the pages a scan is reading.
func (f *dbFile) clone() *dbFile {
	return &dbFile{name: f.name, r: f.r, size: f.size, closer: io.NopCloser(nil), mem: f.mem}
}

// cached returns n bytes at offset off when the window already holds them.
func (f *dbFile) cached(off int64, n int) ([]byte, bool) {
	if f.mem != nil || off < f.winOff || off+int64(n) > f.winOff+int64(len(f.win)) {
		return nil, false
	}
	i := off - f.winOff
	return f.win[i : i+int64(n)], true
}

// at returns n bytes at offset off, reading ahead the default window.
func (f *dbFile) at(off int64, n int) ([]byte, error) { return f.ahead(off, n, windowSize) }

// ahead returns n bytes at offset off; when they are not in the window it refills the
// window with up to ahead bytes from off (the caller's guess of what it reads next, capped
// at maxWindow). The slice is valid until the next call; callers that keep bytes across
// calls copy them. Reading past the end of the file is a parse error (a truncated
// database).
func (f *dbFile) ahead(off int64, n, ahead int) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || int64(n) > f.size-off {
		return nil, fmt.Errorf("%d bytes at offset %d lie beyond the end of the file (%d bytes): truncated: %w",
			n, off, f.size, checks.ErrParse)
	}
	if f.mem != nil {
		return f.mem[off : off+int64(n)], nil
	}
	if off >= f.winOff && off+int64(n) <= f.winOff+int64(len(f.win)) {
		i := off - f.winOff
		return f.win[i : i+int64(n)], nil
	}
	size := max(min(ahead, maxWindow), n)
	if int64(size) > f.size-off {
		size = int(f.size - off)
	}
	if cap(f.win) < size {
		f.win = make([]byte, size)
	}
	f.win = f.win[:size]
	m, err := f.r.ReadAt(f.win, off)
	if m < size {
		f.win = f.win[:0]
		if err == nil || err == io.EOF {
			// The file shrank after it was opened.
			return nil, fmt.Errorf("short read at offset %d: truncated: %w", off, checks.ErrParse)
		}
		return nil, fmt.Errorf("read %s at offset %d: %w", f.name, off, err)
	}
	f.winOff = off
	return f.win[:n], nil
}
