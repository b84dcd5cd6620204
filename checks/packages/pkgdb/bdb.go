package pkgdb

import (
	"encoding/binary"
	"fmt"
)

// Berkeley DB constants (libdb's db_page.h and hash.h).
const (
	bdbHashMagic  = 0x061561
	bdbBtreeMagic = 0x053162

	bdbPageInvalid  = 0  // P_INVALID: free or never used
	bdbPageHashOld  = 2  // P_HASH_UNSORTED: hash bucket, hash version 8
	bdbPageOverflow = 7  // P_OVERFLOW: part of a big item
	bdbPageHashMeta = 8  // P_HASHMETA
	bdbPageHash     = 13 // P_HASH: hash bucket, hash versions 9 and 10

	bdbKeyData   = 1 // H_KEYDATA: the item follows the type byte
	bdbDuplicate = 2 // H_DUPLICATE
	bdbOffPage   = 3 // H_OFFPAGE: the item lives in an overflow chain
	bdbOffDup    = 4 // H_OFFDUP

	bdbPageHeader = 26 // lsn, pgno, prev, next, entries, hf_offset, level, type
	bdbChecksum   = 6  // two unused bytes and a 4-byte checksum after the header
)

// bdbHash is a minimal read-only reader of a Berkeley DB hash database, the format of rpm's
// Packages file before rpm 4.16 (RHEL/CentOS 7 and 8, Amazon Linux 2, SLES 12). It reads
// every bucket page in file order, in either byte order, with or without page checksums
// (which it does not verify). Duplicate items, which rpm never writes, and encrypted
// databases are refused.
type bdbHash struct {
	f        *dbFile
	ovf      *dbFile // f with its own window for overflow chains
	order    binary.ByteOrder
	pageSize int
	hdr      int    // page header size
	lastPage uint32 // highest page number
	// overflowLeft bounds the overflow pages read, as in sqliteDB.
	overflowLeft int64
	page         []byte // copy of the bucket page being read
	value        []byte // reused buffer of a big item
}

// openBDBHash reads the metadata page of f.
func openBDBHash(f *dbFile) (*bdbHash, error) {
	meta, err := f.at(0, 512) // the smallest page size holds the whole metadata
	if err != nil {
		return nil, fmt.Errorf("metadata page: %w", err)
	}
	db := &bdbHash{f: f, ovf: f.clone(), hdr: bdbPageHeader}
	switch {
	case binary.LittleEndian.Uint32(meta[12:]) == bdbHashMagic:
		db.order = binary.LittleEndian
	case binary.BigEndian.Uint32(meta[12:]) == bdbHashMagic:
		db.order = binary.BigEndian
	case binary.LittleEndian.Uint32(meta[12:]) == bdbBtreeMagic || binary.BigEndian.Uint32(meta[12:]) == bdbBtreeMagic:
		return nil, corrupt("a Berkeley DB btree database, not the hash database rpm's Packages is")
	default:
		return nil, corrupt("not a Berkeley DB hash database (bad magic)")
	}
	if v := db.order.Uint32(meta[16:]); v < 8 || v > 10 { // libdb 4.x to 6.x
		return nil, corrupt("metadata page: unsupported hash version %d", v)
	}
	db.pageSize = int(db.order.Uint32(meta[20:]))
	if db.pageSize < 512 || db.pageSize > 65536 || db.pageSize&(db.pageSize-1) != 0 {
		return nil, corrupt("metadata page: invalid page size %d", db.pageSize)
	}
	if meta[24] != 0 {
		return nil, corrupt("metadata page: encrypted database (algorithm %d) is not supported", meta[24])
	}
	if meta[25] != bdbPageHashMeta {
		return nil, corrupt("metadata page: page type %d, not hash metadata", meta[25])
	}
	if meta[26]&1 != 0 { // DBMETA_CHKSUM
		db.hdr += bdbChecksum
	}
	db.lastPage = db.order.Uint32(meta[32:])
	if need := (int64(db.lastPage) + 1) * int64(db.pageSize); need > f.size {
		return nil, corrupt("metadata page: %d pages of %d bytes need %d bytes, the file has %d: truncated",
			db.lastPage+1, db.pageSize, need, f.size)
	}
	db.overflowLeft = int64(db.lastPage)
	db.page = make([]byte, db.pageSize)
	return db, nil
}

// each calls fn for every key/data pair, bucket page by bucket page. The slices are valid
// until fn returns.
func (db *bdbHash) each(fn func(key, data []byte) error) error {
	for pgno := uint32(1); pgno <= db.lastPage; pgno++ {
		src, err := db.f.ahead(int64(pgno)*int64(db.pageSize), db.pageSize, maxWindow)
		if err != nil {
			return fmt.Errorf("page %d: %w", pgno, err)
		}
		switch src[25] {
		case bdbPageHash, bdbPageHashOld:
		case bdbPageInvalid, bdbPageOverflow:
			continue // free pages; big items are read through their chains
		default:
			return corrupt("page %d: unexpected page type %d in a hash database", pgno, src[25])
		}
		copy(db.page, src)
		if got := db.order.Uint32(db.page[8:]); got != pgno {
			return corrupt("page %d: header names page %d", pgno, got)
		}
		if err := db.bucket(pgno, fn); err != nil {
			return err
		}
	}
	return nil
}

// bucket reads the items of the hash page in db.page: keys and data alternate, the offset
// table follows the page header and items are packed from the end of the page downwards.
func (db *bdbHash) bucket(pgno uint32, fn func(key, data []byte) error) error {
	page := db.page
	n := int(db.order.Uint16(page[20:]))
	if n%2 != 0 {
		return corrupt("page %d: odd number of items %d", pgno, n)
	}
	if db.hdr+2*n > db.pageSize {
		return corrupt("page %d: %d items overrun the page", pgno, n)
	}
	for i := 0; i < n; i += 2 {
		key, err := db.item(pgno, i, n, nil)
		if err != nil {
			return err
		}
		data, err := db.item(pgno, i+1, n, &db.value)
		if err != nil {
			return err
		}
		if err := fn(key, data); err != nil {
			return fmt.Errorf("page %d: item %d: %w", pgno, i+1, err)
		}
	}
	return nil
}

// item returns item i of the n items of db.page. A big item is assembled in *big; a key
// (big nil) must be stored on the page.
func (db *bdbHash) item(pgno uint32, i, n int, big *[]byte) ([]byte, error) {
	page := db.page
	off := int(db.order.Uint16(page[db.hdr+2*i:]))
	end := db.pageSize
	if i > 0 {
		end = int(db.order.Uint16(page[db.hdr+2*(i-1):]))
	}
	if off < db.hdr+2*n || off >= end || end > db.pageSize {
		return nil, corrupt("page %d: item %d at offset %d..%d outside the item area", pgno, i, off, end)
	}
	switch page[off] {
	case bdbKeyData:
		return page[off+1 : end], nil
	case bdbOffPage:
		if big == nil {
			return nil, corrupt("page %d: item %d: off-page key", pgno, i)
		}
		if end-off < 12 {
			return nil, corrupt("page %d: item %d: off-page reference truncated", pgno, i)
		}
		first := db.order.Uint32(page[off+4:])
		size := db.order.Uint32(page[off+8:])
		v, err := db.overflow(first, int64(size), (*big)[:0])
		if err != nil {
			return nil, fmt.Errorf("page %d: item %d: %w", pgno, i, err)
		}
		*big = v
		return v, nil
	case bdbDuplicate, bdbOffDup:
		return nil, corrupt("page %d: item %d: duplicate items are not supported", pgno, i)
	default:
		return nil, corrupt("page %d: item %d: unknown item type %d", pgno, i, page[off])
	}
}

// overflow appends the size bytes of the overflow chain starting at page pgno to buf. The
// last page of a chain links to page 0, so a chain that loops never ends where it should.
func (db *bdbHash) overflow(pgno uint32, size int64, buf []byte) ([]byte, error) {
	if size > maxHeader || size > db.f.size {
		return nil, corrupt("big item of %d bytes is larger than the database allows", size)
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	for int64(len(buf)) < size {
		if db.overflowLeft--; db.overflowLeft < 0 {
			return nil, corrupt("overflow chains longer than the database (cycle at page %d)", pgno)
		}
		if pgno == 0 || pgno > db.lastPage {
			return nil, corrupt("overflow page %d is outside the database's %d pages", pgno, db.lastPage+1)
		}
		// Chains often lie just after their bucket page, within the scan's window; else
		// the rest of the chain, if contiguous, is read in one go.
		off := int64(pgno) * int64(db.pageSize)
		p, ok := db.f.cached(off, db.pageSize)
		if !ok {
			rest := int(size-int64(len(buf))+int64(db.pageSize-db.hdr-1)) / (db.pageSize - db.hdr) * db.pageSize
			var err error
			if p, err = db.ovf.ahead(off, db.pageSize, rest); err != nil {
				return nil, fmt.Errorf("overflow page %d: %w", pgno, err)
			}
		}
		if p[25] != bdbPageOverflow || db.order.Uint32(p[8:]) != pgno {
			return nil, corrupt("page %d is not an overflow page", pgno)
		}
		n := int(db.order.Uint16(p[22:])) // hf_offset holds the bytes used on an overflow page
		if n == 0 || db.hdr+n > db.pageSize || int64(len(buf)+n) > size {
			return nil, corrupt("overflow page %d: %d data bytes do not fit the page or the item", pgno, n)
		}
		buf = append(buf, p[db.hdr:db.hdr+n]...)
		pgno = db.order.Uint32(p[16:])
	}
	if pgno != 0 {
		return nil, corrupt("overflow chain continues to page %d past the end of the item", pgno)
	}
	return buf, nil
}
