package pkgdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Header tags and types the reader uses (rpm's rpmtag.h).
const (
	tagName      = 1000
	tagVersion   = 1001
	tagRelease   = 1002
	tagEpoch     = 1003
	tagArch      = 1022
	tagSourceRPM = 1044

	typeInt32  = 4
	typeString = 6
	typeI18N   = 9

	// maxIndexEntries is rpm's own bound on a header's tag count.
	maxIndexEntries = 0xffff
)

// rpmHeader is the part of an rpm header the reader uses; missing tags are empty.
type rpmHeader struct {
	name, version, release, arch, sourceRPM string
	epoch                                   string // decimal, empty when the tag is absent
}

// parseRPMHeader decodes an rpm header as the database stores it: a big-endian index entry
// count and data length, the 16-byte index entries (tag, type, offset, count), then the
// data store. Only the tags the reader uses are decoded, each checked against the data
// store's bounds.
func parseRPMHeader(blob []byte) (rpmHeader, error) {
	var h rpmHeader
	if len(blob) < 8 {
		return h, fmt.Errorf("header of %d bytes is shorter than its 8-byte preamble", len(blob))
	}
	il := binary.BigEndian.Uint32(blob[0:4])
	dl := binary.BigEndian.Uint32(blob[4:8])
	if il == 0 || il > maxIndexEntries {
		return h, fmt.Errorf("header index count %d out of range", il)
	}
	if want := 8 + 16*uint64(il) + uint64(dl); want != uint64(len(blob)) {
		return h, fmt.Errorf("header declares %d index entries and %d data bytes (%d bytes) but holds %d bytes", il, dl, want, len(blob))
	}
	index := blob[8 : 8+16*int(il)]
	data := blob[8+16*int(il):]
	for i := 0; i < int(il); i++ {
		e := index[16*i : 16*i+16]
		tag := binary.BigEndian.Uint32(e[0:4])
		typ := binary.BigEndian.Uint32(e[4:8])
		off := binary.BigEndian.Uint32(e[8:12])
		count := binary.BigEndian.Uint32(e[12:16])
		var dst *string
		switch tag {
		case tagName:
			dst = &h.name
		case tagVersion:
			dst = &h.version
		case tagRelease:
			dst = &h.release
		case tagArch:
			dst = &h.arch
		case tagSourceRPM:
			dst = &h.sourceRPM
		case tagEpoch:
			dst = &h.epoch
		default:
			continue
		}
		if *dst != "" {
			continue // a repeated tag: the first one counts
		}
		if uint64(off) >= uint64(len(data)) || count == 0 {
			return h, fmt.Errorf("tag %d: offset %d count %d outside the %d-byte data store", tag, off, count, len(data))
		}
		switch {
		case tag == tagEpoch && typ == typeInt32:
			if uint64(off)+4 > uint64(len(data)) {
				return h, fmt.Errorf("tag %d: INT32 at offset %d runs past the %d-byte data store", tag, off, len(data))
			}
			*dst = strconv.FormatUint(uint64(binary.BigEndian.Uint32(data[off:])), 10)
		case tag != tagEpoch && (typ == typeString || typ == typeI18N):
			end := bytes.IndexByte(data[off:], 0)
			if end < 0 {
				return h, fmt.Errorf("tag %d: string at offset %d is not terminated within the data store", tag, off)
			}
			*dst = string(data[off : int(off)+end])
		default:
			return h, fmt.Errorf("tag %d has unexpected type %d", tag, typ)
		}
	}
	return h, nil
}

// errPubkey marks rpm's gpg-pubkey pseudo packages, which the reader skips.
var errPubkey = errors.New("gpg-pubkey pseudo package")

// rpmPackage builds the Package of a header blob; gpg-pubkey entries are errPubkey.
func rpmPackage(blob []byte) (Package, error) {
	h, err := parseRPMHeader(blob)
	if err != nil {
		return Package{}, err
	}
	switch {
	case h.name == "":
		return Package{}, errors.New("header without NAME")
	case h.name == "gpg-pubkey":
		return Package{}, errPubkey
	case h.version == "" || h.release == "":
		return Package{}, fmt.Errorf("package %q without VERSION or RELEASE", h.name)
	}
	vr := h.version + "-" + h.release
	p := Package{Name: h.name, Version: vr, Arch: h.arch}
	if h.epoch != "" {
		p.Version = h.epoch + ":" + vr
	}
	if src, srcVR, ok := splitSourceRPM(h.sourceRPM); ok {
		if src != p.Name {
			p.Source = src
		}
		// The file name carries no epoch: compare with the binary's version-release.
		if srcVR != vr {
			p.SourceVersion = srcVR
		}
	}
	return p, nil
}

// splitSourceRPM splits a SOURCERPM file name, "name-version-release.src.rpm", into the
// name and "version-release".
func splitSourceRPM(s string) (name, vr string, ok bool) {
	base, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		if base, found = strings.CutSuffix(s, ".nosrc.rpm"); !found {
			return "", "", false
		}
	}
	r := strings.LastIndexByte(base, '-')
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndexByte(base[:r], '-')
	if v <= 0 {
		return "", "", false
	}
	return base[:v], base[v+1:], true
}
