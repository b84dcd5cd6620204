package pkgdb

import (
	"encoding/binary"
	"fmt"
)

// sqliteDB is a minimal read-only reader of the SQLite 3 file format
// (https://www.sqlite.org/fileformat.html): the database header, table b-trees with their
// interior and leaf pages, overflow page chains, the record format and the schema table.
// Index b-trees, WITHOUT ROWID tables, UTF-16 databases and the freelist are not needed by
// rpm and not read. Committed frames of a WAL file are applied (see readWAL); a hot
// rollback journal is ignored.
type sqliteDB struct {
	f   *dbFile
	ovf *dbFile // f with its own window for overflow chains
	wal *dbFile
	// frames maps a page number to the offset of its newest committed copy in the WAL.
	frames   map[uint32]int64
	pageSize int
	usable   int    // page size minus the reserved bytes at the end of each page
	pages    uint32 // database size in pages
	// overflowLeft bounds the overflow pages read: each page belongs to one chain, so a
	// valid database never needs more than it has pages, and a cycle runs out.
	overflowLeft int64
	// localLeft bounds the cell bytes read from b-tree pages in the same way, against
	// cells that overlap many times on one page.
	localLeft int64
	payload   []byte // reused buffer of a row's whole payload
}

const sqliteMagic = "SQLite format 3\x00"

// openSQLite reads the database header of f and the WAL file wal (nil when absent).
func openSQLite(f, wal *dbFile) (*sqliteDB, error) {
	hdr, err := f.at(0, 100)
	if err != nil {
		return nil, fmt.Errorf("database header: %w", err)
	}
	if string(hdr[:16]) != sqliteMagic {
		return nil, corrupt("not an SQLite 3 database (bad magic)")
	}
	pageSize := int(binary.BigEndian.Uint16(hdr[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return nil, corrupt("database header: invalid page size %d", pageSize)
	}
	usable := pageSize - int(hdr[20])
	if usable < 480 {
		return nil, corrupt("database header: %d reserved bytes leave a usable page size of %d", hdr[20], usable)
	}
	if enc := binary.BigEndian.Uint32(hdr[56:60]); enc > 1 {
		return nil, corrupt("database header: text encoding %d (UTF-16) is not supported", enc)
	}
	db := &sqliteDB{f: f, ovf: f.clone(), pageSize: pageSize, usable: usable}
	// The in-header size is valid when the change counter matches version-valid-for;
	// older writers left it stale, and then the file size counts.
	filePages := f.size / int64(pageSize)
	db.pages = uint32(min(filePages, 1<<31))
	if n := binary.BigEndian.Uint32(hdr[28:32]); n != 0 && string(hdr[24:28]) == string(hdr[92:96]) {
		db.pages = n
	}
	if wal != nil {
		frames, walPages, err := readWAL(wal, pageSize)
		if err != nil {
			return nil, fmt.Errorf("WAL: %w", err)
		}
		if walPages != 0 {
			db.wal, db.frames, db.pages = wal, frames, walPages
		}
	}
	if int64(db.pages) > filePages+int64(len(db.frames)) {
		return nil, corrupt("database of %d pages but the file holds %d: truncated", db.pages, filePages)
	}
	db.overflowLeft = int64(db.pages)
	db.localLeft = int64(db.pages) * int64(usable)
	return db, nil
}

// page returns b-tree page n (1-based), from the WAL when it holds a newer copy. The slice
// is valid until the next read.
func (db *sqliteDB) page(n uint32) ([]byte, error) { return db.pageFrom(db.f, n, db.pageSize) }

// pageFrom reads page n through file view f, reading ahead up to ahead bytes.
func (db *sqliteDB) pageFrom(f *dbFile, n uint32, ahead int) ([]byte, error) {
	if n == 0 || n > db.pages {
		return nil, corrupt("page %d is outside the database's %d pages", n, db.pages)
	}
	if off, ok := db.frames[n]; ok {
		p, err := db.wal.at(off, db.pageSize)
		if err != nil {
			return nil, fmt.Errorf("page %d in the WAL: %w", n, err)
		}
		return p, nil
	}
	p, err := f.ahead(int64(n-1)*int64(db.pageSize), db.pageSize, ahead)
	if err != nil {
		return nil, fmt.Errorf("page %d: %w", n, err)
	}
	return p, nil
}

// tableRoot returns the root page of the table called name, from the schema table.
func (db *sqliteDB) tableRoot(name string) (uint32, error) {
	var root uint32
	err := db.scanTable(1, func(rowid int64, payload []byte) error {
		if root != 0 {
			return nil
		}
		cols, err := decodeRecord(payload, 5)
		if err != nil {
			return fmt.Errorf("schema row %d: %w", rowid, err)
		}
		if len(cols) < 4 || cols[0].kind != 't' || string(cols[0].b) != "table" ||
			cols[1].kind != 't' || string(cols[1].b) != name {
			return nil
		}
		if cols[3].kind != 'i' || cols[3].i < 1 || cols[3].i > int64(db.pages) {
			return corrupt("schema row %d: table %s has an invalid root page", rowid, name)
		}
		root = uint32(cols[3].i)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("schema: %w", err)
	}
	if root == 0 {
		return 0, corrupt("no table %q in the schema", name)
	}
	return root, nil
}

// maxBtreeDepth bounds the b-tree descent; a real database of a few million rows is 4–6
// levels deep.
const maxBtreeDepth = 32

// scanTable calls fn for each row of the table b-tree rooted at root, in rowid order. The
// payload is valid until fn returns.
func (db *sqliteDB) scanTable(root uint32, fn func(rowid int64, payload []byte) error) error {
	w := &btreeWalk{db: db, fn: fn, visited: make([]uint64, db.pages/64+1)}
	return w.walk(root, 0)
}

// btreeWalk is the state of one table scan.
type btreeWalk struct {
	db      *sqliteDB
	fn      func(rowid int64, payload []byte) error
	visited []uint64 // pages already entered: a cycle is an error, not an endless loop
	bufs    [][]byte // one page copy per depth, reused
}

func (w *btreeWalk) walk(pgno uint32, depth int) error {
	db := w.db
	if depth >= maxBtreeDepth {
		return corrupt("page %d: b-tree deeper than %d levels", pgno, maxBtreeDepth)
	}
	if pgno == 0 || pgno > db.pages {
		return corrupt("b-tree child page %d is outside the database's %d pages", pgno, db.pages)
	}
	if w.visited[pgno/64]&(1<<(pgno%64)) != 0 {
		return corrupt("page %d: b-tree page reached twice (cycle)", pgno)
	}
	w.visited[pgno/64] |= 1 << (pgno % 64)
	src, err := db.page(pgno)
	if err != nil {
		return err
	}
	if len(w.bufs) <= depth {
		w.bufs = append(w.bufs, make([]byte, db.pageSize))
	}
	page := w.bufs[depth]
	copy(page, src)
	page = page[:db.usable]

	h := 0
	if pgno == 1 {
		h = 100 // the database header precedes page 1's b-tree header
	}
	kind := page[h]
	hdrLen := 8
	switch kind {
	case 0x05: // interior table page
		hdrLen = 12
	case 0x0d: // leaf table page
	default:
		return corrupt("page %d: not a table b-tree page (type %#x)", pgno, kind)
	}
	ncells := int(binary.BigEndian.Uint16(page[h+3:]))
	ptrs := h + hdrLen
	if ptrs+2*ncells > len(page) {
		return corrupt("page %d: %d cell pointers overrun the page", pgno, ncells)
	}
	for i := 0; i < ncells; i++ {
		off := int(binary.BigEndian.Uint16(page[ptrs+2*i:]))
		if off < ptrs+2*ncells || off >= len(page) {
			return corrupt("page %d: cell %d at offset %d lies outside the cell content area", pgno, i, off)
		}
		if kind == 0x05 {
			if off+4 > len(page) {
				return corrupt("page %d: cell %d truncated", pgno, i)
			}
			if err := w.walk(binary.BigEndian.Uint32(page[off:]), depth+1); err != nil {
				return err
			}
			continue
		}
		if err := w.leafCell(pgno, i, page, off); err != nil {
			return err
		}
	}
	if kind == 0x05 {
		return w.walk(binary.BigEndian.Uint32(page[h+8:]), depth+1)
	}
	return nil
}

// leafCell assembles the payload of one table leaf cell (local part plus overflow chain)
// and hands it to fn.
func (w *btreeWalk) leafCell(pgno uint32, i int, page []byte, off int) error {
	db := w.db
	size, n := sqliteVarint(page[off:])
	if n == 0 {
		return corrupt("page %d: cell %d: truncated payload size", pgno, i)
	}
	off += n
	rowid, n := sqliteVarint(page[off:])
	if n == 0 {
		return corrupt("page %d: cell %d: truncated rowid", pgno, i)
	}
	off += n
	if size > maxHeader || size > uint64(db.pages)*uint64(db.pageSize) {
		return corrupt("page %d: cell %d: payload of %d bytes is larger than the database allows", pgno, i, size)
	}
	local := localPayload(int(size), db.usable)
	if off+local > len(page) {
		return corrupt("page %d: cell %d: %d local payload bytes overrun the page", pgno, i, local)
	}
	if db.localLeft -= int64(local); db.localLeft < 0 {
		return corrupt("page %d: cell %d: cells overlap (more cell bytes than the database holds)", pgno, i)
	}
	if cap(db.payload) < int(size) {
		db.payload = make([]byte, 0, size)
	}
	payload := append(db.payload[:0], page[off:off+local]...)
	if local < int(size) {
		if off+local+4 > len(page) {
			return corrupt("page %d: cell %d: overflow page number overruns the page", pgno, i)
		}
		next := binary.BigEndian.Uint32(page[off+local:])
		var err error
		if payload, err = db.readOverflow(payload, next, int(size)); err != nil {
			return fmt.Errorf("page %d: cell %d (row %d): %w", pgno, i, int64(rowid), err)
		}
	}
	return w.fn(int64(rowid), payload)
}

// localPayload is how many payload bytes a table leaf cell keeps on its page
// (fileformat.html, "Cell Payload Overflow Pages").
func localPayload(p, u int) int {
	x := u - 35
	if p <= x {
		return p
	}
	m := (u-12)*32/255 - 23
	k := m + (p-m)%(u-4)
	if k <= x {
		return k
	}
	return m
}

// readOverflow appends the overflow chain starting at page next to payload until it holds
// size bytes. Each overflow page starts with the next page's number, zero on the last one,
// so a chain that loops back on itself never ends where it should.
func (db *sqliteDB) readOverflow(payload []byte, next uint32, size int) ([]byte, error) {
	for len(payload) < size {
		if db.overflowLeft--; db.overflowLeft < 0 {
			return nil, corrupt("overflow chains longer than the database (cycle at page %d)", next)
		}
		// The rest of the chain, if contiguous, is read in one go.
		rest := (size - len(payload) + db.usable - 5) / (db.usable - 4) * db.pageSize
		p, err := db.pageFrom(db.ovf, next, rest)
		if err != nil {
			return nil, fmt.Errorf("overflow chain: %w", err)
		}
		n := min(size-len(payload), db.usable-4)
		payload = append(payload, p[4:4+n]...)
		next = binary.BigEndian.Uint32(p)
	}
	if next != 0 {
		return nil, corrupt("overflow chain continues to page %d past the end of the payload", next)
	}
	return payload, nil
}

// sqliteVarint decodes a big-endian SQLite varint of 1–9 bytes; n is 0 when b is too short.
func sqliteVarint(b []byte) (v uint64, n int) {
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0 // unreachable
}

// sqliteValue is one decoded column: kind 'n' (NULL), 'i' (integer), 'f' (float, value not
// decoded), 't' (text) or 'b' (blob).
type sqliteValue struct {
	kind byte
	i    int64
	b    []byte
}

// decodeRecord decodes up to maxCols columns of a record: a header of serial types, then
// the values. Text and blob values alias payload.
func decodeRecord(payload []byte, maxCols int) ([]sqliteValue, error) {
	hsize, n := sqliteVarint(payload)
	if n == 0 || hsize < uint64(n) || hsize > uint64(len(payload)) {
		return nil, corrupt("record header size %d invalid for a %d-byte record", hsize, len(payload))
	}
	hdr := payload[n:hsize]
	body := payload[hsize:]
	var cols []sqliteValue
	for len(hdr) > 0 && len(cols) < maxCols {
		st, n := sqliteVarint(hdr)
		if n == 0 {
			return nil, corrupt("record header: truncated serial type")
		}
		hdr = hdr[n:]
		var v sqliteValue
		var size uint64
		switch {
		case st == 0:
			v.kind = 'n'
		case st <= 6:
			size = [...]uint64{0, 1, 2, 3, 4, 6, 8}[st]
			v.kind = 'i'
		case st == 7:
			size, v.kind = 8, 'f'
		case st == 8 || st == 9:
			v.kind, v.i = 'i', int64(st-8)
		case st == 10 || st == 11:
			return nil, corrupt("record header: reserved serial type %d", st)
		case st%2 == 0:
			size, v.kind = (st-12)/2, 'b'
		default:
			size, v.kind = (st-13)/2, 't'
		}
		if size > uint64(len(body)) {
			return nil, corrupt("record: column %d of %d bytes runs past the record", len(cols), size)
		}
		val := body[:size]
		body = body[size:]
		switch v.kind {
		case 'i':
			if size > 0 {
				x := int64(int8(val[0])) // sign-extend the big-endian integer
				for _, c := range val[1:] {
					x = x<<8 | int64(c)
				}
				v.i = x
			}
		case 'b', 't':
			v.b = val
		}
		cols = append(cols, v)
	}
	return cols, nil
}
