package pkgdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
)

// The tests below damage the fixtures in memory: every damaged database must give either a
// parse error or the right answer, never a panic, an endless loop or a silently shortened
// package list.

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readSQLiteBytes runs the rpm SQLite reader on in-memory files (wal may be nil).
func readSQLiteBytes(db, wal []byte) ([]Package, error) {
	var w *dbFile
	if wal != nil {
		w = newMemFile("rpmdb.sqlite-wal", wal)
	}
	return rpmFromSQLite(newMemFile("rpmdb.sqlite", db), w)
}

func readBDBBytes(data []byte) ([]Package, error) {
	return rpmFromBerkeley(newMemFile("Packages", data))
}

// truncationOffsets returns offsets spread over a file of size n: a regular stride plus
// both sides of every page boundary.
func truncationOffsets(n, pageSize, stride int) []int {
	var offs []int
	for off := 0; off < n; off += stride {
		offs = append(offs, off)
	}
	for p := pageSize; p < n; p += pageSize {
		offs = append(offs, p-1, p, p+1)
	}
	return offs
}

func mustParseError(t *testing.T, what string, pkgs []Package, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, read %d packages", what, len(pkgs))
	}
	if !errors.Is(err, checks.ErrParse) {
		t.Fatalf("%s: error %v does not wrap checks.ErrParse", what, err)
	}
}

func TestSQLiteTruncated(t *testing.T) {
	data := readFixture(t, "rpm/rpmdb.sqlite")
	offs := truncationOffsets(len(data), 4096, 509)
	for _, off := range offs {
		pkgs, err := readSQLiteBytes(data[:off], nil)
		mustParseError(t, "truncated at "+strconv.Itoa(off), pkgs, err)
	}
	// Without a valid page count in the header the file size counts: a cut is then found
	// where a b-tree or overflow page is missing, and a cut that removes only other tables'
	// pages leaves the package list whole.
	stale := slices.Clone(data)
	binary.BigEndian.PutUint32(stale[28:], 0)
	full := rhel9()
	errs := 0
	for p := 1; p < len(data)/4096; p++ {
		pkgs, err := readSQLiteBytes(stale[:p*4096], nil)
		if err != nil {
			if !errors.Is(err, checks.ErrParse) {
				t.Fatalf("cut at page %d: %v", p, err)
			}
			errs++
			continue
		}
		if !slices.Equal(lines(pkgs), full) {
			t.Fatalf("cut at page %d: silently read a different list:\n%s", p, strings.Join(lines(pkgs), "\n"))
		}
	}
	if errs == 0 {
		t.Error("no cut of the stale-header database was detected")
	}
	t.Logf("%d truncations, %d page cuts with a stale header (%d detected)", len(offs), len(data)/4096-1, errs)
}

// TestSQLiteWALTruncated cuts the WAL anywhere: SQLite ignores a torn tail, so the result is
// always one of the three committed states, never an error or a mix.
func TestSQLiteWALTruncated(t *testing.T) {
	db := readFixture(t, "rpm/wal/rpmdb.sqlite")
	wal := readFixture(t, "rpm/wal/rpmdb.sqlite-wal")
	base := rhel9()
	first := slices.DeleteFunc(slices.Clone(base), func(l string) bool { return strings.HasPrefix(l, "tzdata ") })
	states := map[string]string{
		strings.Join(base, "\n"):       "base",
		strings.Join(first, "\n"):      "first commit",
		strings.Join(rhel9WAL(), "\n"): "second commit",
	}
	seen := map[string]bool{}
	for _, off := range append(truncationOffsets(len(wal), 4096+24, 301), len(wal)) {
		pkgs, err := readSQLiteBytes(db, wal[:off])
		if err != nil {
			t.Fatalf("WAL cut at %d: %v", off, err)
		}
		state, ok := states[strings.Join(lines(pkgs), "\n")]
		if !ok {
			t.Fatalf("WAL cut at %d: unexpected list:\n%s", off, strings.Join(lines(pkgs), "\n"))
		}
		seen[state] = true
	}
	if len(seen) != 3 {
		t.Errorf("cuts reached only %v", seen)
	}
	// A frame with a bad checksum ends the valid WAL there, as a torn write would.
	bad := slices.Clone(wal)
	bad[32+24+100] ^= 0xff // the first frame's page data
	pkgs, err := readSQLiteBytes(db, bad)
	if err != nil || states[strings.Join(lines(pkgs), "\n")] != "base" {
		t.Errorf("WAL with a bad first frame: err %v, %d packages", err, len(pkgs))
	}
	// A WAL header with a bad checksum is ignored.
	bad = slices.Clone(wal)
	bad[12] ^= 1 // checkpoint sequence, covered by the header checksum
	if pkgs, err = readSQLiteBytes(db, bad); err != nil || states[strings.Join(lines(pkgs), "\n")] != "base" {
		t.Errorf("WAL with a bad header: err %v, %d packages", err, len(pkgs))
	}
}

// sqliteLayout locates structures of the SQLite fixture to damage: the Packages root page,
// a leaf and the first overflow page of a row on that leaf.
func sqliteLayout(t *testing.T, data []byte) (root, leaf, overflow uint32) {
	t.Helper()
	db, err := openSQLite(newMemFile("db", data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if root, err = db.tableRoot("Packages"); err != nil {
		t.Fatal(err)
	}
	page := func(n uint32) []byte { return data[int(n-1)*4096 : int(n)*4096] }
	r := page(root)
	if r[0] != 0x05 {
		t.Fatalf("root page %d is not an interior page", root)
	}
	for c := 0; c < int(binary.BigEndian.Uint16(r[3:])); c++ {
		cell := binary.BigEndian.Uint16(r[12+2*c:])
		leaf = binary.BigEndian.Uint32(r[cell:])
		l := page(leaf)
		for i := 0; i < int(binary.BigEndian.Uint16(l[3:])); i++ {
			off := int(binary.BigEndian.Uint16(l[8+2*i:]))
			size, n := sqliteVarint(l[off:])
			_, m := sqliteVarint(l[off+n:])
			local := localPayload(int(size), 4096)
			if local < int(size) {
				return root, leaf, binary.BigEndian.Uint32(l[off+n+m+local:])
			}
		}
	}
	t.Fatal("no overflowing row under the root's cells")
	return
}

func TestSQLiteCorruptions(t *testing.T) {
	data := readFixture(t, "rpm/rpmdb.sqlite")
	root, leaf, overflow := sqliteLayout(t, data)
	at := func(n uint32) int { return int(n-1) * 4096 }
	for _, tc := range []struct {
		name   string
		damage func(b []byte)
		want   string
	}{
		{"bad magic", func(b []byte) { b[0] = 's' }, "bad magic"},
		{"page size 3", func(b []byte) { binary.BigEndian.PutUint16(b[16:], 3) }, "page size"},
		{"reserved space too large", func(b []byte) { b[20] = 255; b[16], b[17] = 2, 0 }, "usable"},
		{"UTF-16", func(b []byte) { binary.BigEndian.PutUint32(b[56:], 2) }, "UTF-16"},
		{"no Packages table", func(b []byte) {
			copy(b, bytes.ReplaceAll(b, []byte("Packages"), []byte("Packagez")))
		}, `no table "Packages"`},
		{"root is a leaf index page", func(b []byte) { b[at(root)] = 0x0a }, "not a table b-tree page"},
		{"b-tree cycle", func(b []byte) { binary.BigEndian.PutUint32(b[at(root)+8:], root) }, "cycle"},
		{"child outside the file", func(b []byte) { binary.BigEndian.PutUint32(b[at(root)+8:], 1<<30) }, "outside"},
		{"cell pointer outside the page", func(b []byte) { binary.BigEndian.PutUint16(b[at(leaf)+8:], 4095) }, "cell"},
		{"cell count overruns the page", func(b []byte) { binary.BigEndian.PutUint16(b[at(leaf)+3:], 4000) }, "overrun"},
		{"overflow chain loops", func(b []byte) { binary.BigEndian.PutUint32(b[at(overflow):], overflow) }, "overflow"},
		{"overflow chain ends early", func(b []byte) { binary.BigEndian.PutUint32(b[at(overflow):], 0) }, "outside"},
		{"overflow page is the header", func(b []byte) { binary.BigEndian.PutUint32(b[at(overflow):], 1) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := slices.Clone(data)
			tc.damage(b)
			pkgs, err := readSQLiteBytes(b, nil)
			mustParseError(t, tc.name, pkgs, err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// bdbLayout returns the first off-page item's overflow page in page 1 of a little-endian
// 4 KiB fixture, and that item's index.
func bdbLayout(t *testing.T, data []byte) (overflow uint32, item int) {
	t.Helper()
	p := data[4096:8192]
	n := int(binary.LittleEndian.Uint16(p[20:]))
	for i := 1; i < n; i += 2 {
		off := int(binary.LittleEndian.Uint16(p[26+2*i:]))
		if p[off] == bdbOffPage {
			return binary.LittleEndian.Uint32(p[off+4:]), i
		}
	}
	t.Fatal("no off-page item on page 1")
	return
}

func TestBerkeleyTruncated(t *testing.T) {
	for _, tc := range []struct {
		file     string
		pageSize int
	}{{"rpm/Packages", 4096}, {"rpm/Packages.be", 1024}, {"rpm/Packages.chksum", 512}} {
		data := readFixture(t, tc.file)
		offs := truncationOffsets(len(data), tc.pageSize, 257)
		for _, off := range offs {
			pkgs, err := readBDBBytes(data[:off])
			mustParseError(t, tc.file+" truncated at "+strconv.Itoa(off), pkgs, err)
		}
		t.Logf("%s: %d truncations detected", tc.file, len(offs))
	}
}

func TestBerkeleyCorruptions(t *testing.T) {
	data := readFixture(t, "rpm/Packages")
	overflow, item := bdbLayout(t, data)
	ov := int(overflow) * 4096
	inp := func(i int) int { return 4096 + 26 + 2*i }
	for _, tc := range []struct {
		name   string
		damage func(b []byte)
		want   string
	}{
		{"bad magic", func(b []byte) { b[12] = 0 }, "bad magic"},
		{"btree database", func(b []byte) { binary.LittleEndian.PutUint32(b[12:], bdbBtreeMagic) }, "btree"},
		{"hash version 5", func(b []byte) { binary.LittleEndian.PutUint32(b[16:], 5) }, "version"},
		{"page size 1000", func(b []byte) { binary.LittleEndian.PutUint32(b[20:], 1000) }, "page size"},
		{"encrypted", func(b []byte) { b[24] = 1 }, "encrypted"},
		{"last page beyond the file", func(b []byte) { binary.LittleEndian.PutUint32(b[32:], 1<<20) }, "truncated"},
		{"unknown page type", func(b []byte) { b[4096+25] = 5 }, "page type"},
		{"page number mismatch", func(b []byte) { binary.LittleEndian.PutUint32(b[4096+8:], 7) }, "names page"},
		{"odd item count", func(b []byte) { binary.LittleEndian.PutUint16(b[4096+20:], 3) }, "odd"},
		{"item offset in the index", func(b []byte) { binary.LittleEndian.PutUint16(b[inp(item):], 27) }, "outside"},
		{"duplicate item", func(b []byte) { b[4096+int(binary.LittleEndian.Uint16(b[inp(item):]))] = bdbDuplicate }, "duplicate"},
		{"overflow loops", func(b []byte) { binary.LittleEndian.PutUint32(b[ov+16:], overflow) }, "overflow"},
		{"overflow ends early", func(b []byte) { binary.LittleEndian.PutUint32(b[ov+16:], 0) }, "outside"},
		{"overflow page length 0", func(b []byte) { binary.LittleEndian.PutUint16(b[ov+22:], 0) }, "data bytes"},
		{"overflow into a bucket page", func(b []byte) { binary.LittleEndian.PutUint32(b[ov+16:], 1) }, "not an overflow page"},
		{"key of 3 bytes", func(b []byte) {
			// Shift the key's item start by one byte: its type byte moves onto the key.
			off := binary.LittleEndian.Uint16(b[inp(item-1):])
			b[4096+int(off)+1] = bdbKeyData
			binary.LittleEndian.PutUint16(b[inp(item-1):], off+1)
		}, "4-byte header number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := slices.Clone(data)
			tc.damage(b)
			pkgs, err := readBDBBytes(b)
			mustParseError(t, tc.name, pkgs, err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestRandomFlips flips a few random bytes of each binary fixture many times: the reader
// returns a parse error or a package list, never panics or loops.
func TestRandomFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		file string
		read func(b []byte) ([]Package, error)
	}{
		{"rpm/rpmdb.sqlite", func(b []byte) ([]Package, error) { return readSQLiteBytes(b, nil) }},
		{"rpm/Packages", readBDBBytes},
		{"rpm/Packages.be", readBDBBytes},
		{"rpm/Packages.chksum", readBDBBytes},
	} {
		data := readFixture(t, tc.file)
		detected := 0
		const rounds = 400
		for range rounds {
			b := slices.Clone(data)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
			pkgs, err := tc.read(b)
			if err != nil {
				if !errors.Is(err, checks.ErrParse) {
					t.Fatalf("%s: %v is not a parse error", tc.file, err)
				}
				detected++
				continue
			}
			if len(pkgs) > len(rhel9())+1 { // a damaged gpg-pubkey name makes it count

				t.Fatalf("%s: damaged database yields %d packages", tc.file, len(pkgs))
			}
		}
		// Most bytes are file names and digests inside headers, where a flip is undetectable.
		t.Logf("%s: %d of %d damaged copies detected", tc.file, detected, rounds)
	}
	// Header blobs: flips in the index region must be caught or harmless.
	blob := firstHeader(t)
	detected := 0
	for range 2000 {
		b := slices.Clone(blob)
		b[rng.IntN(min(len(b), 8+16*8))] ^= byte(1 + rng.IntN(255))
		if _, err := rpmPackage(b); err != nil {
			detected++
		}
	}
	t.Logf("rpm header: %d of 2000 index-region flips detected", detected)
}

// TestTextTruncated cuts the text databases everywhere: a parse error or a prefix of the
// full list, never a panic.
func TestTextTruncated(t *testing.T) {
	for _, tc := range []struct {
		file string
		read func(s string) ([]Package, error)
	}{
		{"dpkg/debian12.status", func(s string) ([]Package, error) {
			inst, _, err := parseDpkgStatus(strings.NewReader(s), "status")
			return inst, err
		}},
		{"apk/alpine319.installed", func(s string) ([]Package, error) {
			return parseAPKInstalled(strings.NewReader(s), "installed")
		}},
	} {
		data := string(readFixture(t, tc.file))
		full, err := tc.read(data)
		if err != nil {
			t.Fatal(err)
		}
		errs := 0
		for off := 0; off < len(data); off += 11 {
			pkgs, err := tc.read(data[:off])
			if err != nil {
				if !errors.Is(err, checks.ErrParse) {
					t.Fatalf("%s cut at %d: %v", tc.file, off, err)
				}
				errs++
				continue
			}
			// A cut inside the last stanza may shorten a field value of that stanza.
			if len(pkgs) > len(full) || (len(pkgs) > 1 && !slices.Equal(lines(pkgs[:len(pkgs)-1]), lines(full[:len(pkgs)-1]))) {
				t.Fatalf("%s cut at %d: not a prefix of the full list", tc.file, off)
			}
		}
		t.Logf("%s: %d cuts, %d parse errors", tc.file, len(data)/11, errs)
	}
}

// firstHeader returns the first header blob of the SQLite fixture.
func firstHeader(t testing.TB) []byte {
	t.Helper()
	db, err := openSQLite(newMemFile("db", readFixture(t, "rpm/rpmdb.sqlite")), nil)
	if err != nil {
		t.Fatal(err)
	}
	root, err := db.tableRoot("Packages")
	if err != nil {
		t.Fatal(err)
	}
	var blob []byte
	errDone := errors.New("done")
	err = db.scanTable(root, func(_ int64, payload []byte) error {
		cols, err := decodeRecord(payload, 2)
		if err != nil {
			return err
		}
		blob = slices.Clone(cols[1].b)
		return errDone
	})
	if !errors.Is(err, errDone) {
		t.Fatal(err)
	}
	return blob
}
