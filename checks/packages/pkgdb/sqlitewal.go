package pkgdb

import (
	"encoding/binary"
)

// WAL file magic numbers: the low bit tells the byte order of the checksum words.
const (
	walMagicLE = 0x377f0682
	walMagicBE = 0x377f0683
)

// readWAL applies SQLite's WAL recovery rules to w: frames are valid while their salts
// match the WAL header and their cumulative checksum holds; the valid frames up to the last
// commit frame are the committed state, anything after it (an unfinished transaction, a
// torn write, frames of an older generation) is ignored. It returns, for each page, the
// offset of its newest committed copy, and the database size in pages after the last
// commit (0 when nothing is committed). A WAL with a bad header is ignored as SQLite does.
func readWAL(w *dbFile, pageSize int) (map[uint32]int64, uint32, error) {
	if w.size < 32 {
		return nil, 0, nil
	}
	hdr, err := w.at(0, 32)
	if err != nil {
		return nil, 0, err
	}
	var order binary.ByteOrder
	switch binary.BigEndian.Uint32(hdr[0:4]) {
	case walMagicLE:
		order = binary.LittleEndian
	case walMagicBE:
		order = binary.BigEndian
	default:
		return nil, 0, nil
	}
	if int(binary.BigEndian.Uint32(hdr[8:12])) != pageSize {
		return nil, 0, nil // a WAL of another page size cannot belong to this database
	}
	s0, s1 := walChecksum(0, 0, hdr[:24], order)
	if s0 != binary.BigEndian.Uint32(hdr[24:28]) || s1 != binary.BigEndian.Uint32(hdr[28:32]) {
		return nil, 0, nil
	}
	salt := string(hdr[16:24])
	var (
		committed = map[uint32]int64{}
		pending   = map[uint32]int64{}
		dbPages   uint32
	)
	frameSize := int64(24 + pageSize)
	for off := int64(32); off+frameSize <= w.size; off += frameSize {
		frame, err := w.at(off, int(frameSize))
		if err != nil {
			return nil, 0, err
		}
		if string(frame[8:16]) != salt {
			break
		}
		s0, s1 = walChecksum(s0, s1, frame[:8], order)
		s0, s1 = walChecksum(s0, s1, frame[24:], order)
		if s0 != binary.BigEndian.Uint32(frame[16:20]) || s1 != binary.BigEndian.Uint32(frame[20:24]) {
			break
		}
		pgno := binary.BigEndian.Uint32(frame[0:4])
		if pgno == 0 {
			break
		}
		pending[pgno] = off + 24
		if commit := binary.BigEndian.Uint32(frame[4:8]); commit != 0 {
			for p, o := range pending {
				committed[p] = o
			}
			clear(pending)
			dbPages = commit
		}
	}
	if dbPages == 0 {
		return nil, 0, nil
	}
	return committed, dbPages, nil
}

// walChecksum continues SQLite's WAL checksum (s0, s1) over b, read as pairs of 32-bit
// words in the WAL's byte order; len(b) is a multiple of 8.
func walChecksum(s0, s1 uint32, b []byte, order binary.ByteOrder) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}
