package pkgdb

import (
	"encoding/binary"
	"strings"
	"testing"
)

// hdrEntry is one tag of a synthetic header: a string (types STRING/I18NSTRING) or an
// INT32.
type hdrEntry struct {
	tag, typ uint32
	str      string
	num      uint32
}

// buildHeader encodes entries as rpm stores a header in its database.
func buildHeader(entries ...hdrEntry) []byte {
	var index, data []byte
	for _, e := range entries {
		if e.typ == typeInt32 {
			for len(data)%4 != 0 {
				data = append(data, 0)
			}
		}
		index = binary.BigEndian.AppendUint32(index, e.tag)
		index = binary.BigEndian.AppendUint32(index, e.typ)
		index = binary.BigEndian.AppendUint32(index, uint32(len(data)))
		index = binary.BigEndian.AppendUint32(index, 1)
		if e.typ == typeInt32 {
			data = binary.BigEndian.AppendUint32(data, e.num)
		} else {
			data = append(append(data, e.str...), 0)
		}
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(entries)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	return append(append(out, index...), data...)
}

func str(tag uint32, s string) hdrEntry { return hdrEntry{tag: tag, typ: typeString, str: s} }

func TestRPMPackage(t *testing.T) {
	base := []hdrEntry{str(tagName, "openssl-libs"), str(tagVersion, "3.0.7"), str(tagRelease, "27.el9"), str(tagArch, "x86_64")}
	for _, tc := range []struct {
		name    string
		entries []hdrEntry
		want    string
	}{
		{"plain", base, "openssl-libs 3.0.7-27.el9 x86_64 - - -"},
		{"epoch and source", append(base, hdrEntry{tag: tagEpoch, typ: typeInt32, num: 1}, str(tagSourceRPM, "openssl-3.0.7-27.el9.src.rpm")),
			"openssl-libs 1:3.0.7-27.el9 x86_64 openssl - -"},
		{"epoch 0 is written", append(base, hdrEntry{tag: tagEpoch, typ: typeInt32, num: 0}), "openssl-libs 0:3.0.7-27.el9 x86_64 - - -"},
		{"subpackage with its own version", append(base, str(tagSourceRPM, "openssl-3.0.8-1.el9.src.rpm")),
			"openssl-libs 3.0.7-27.el9 x86_64 openssl 3.0.8-1.el9 -"},
		{"nosrc", append(base, str(tagSourceRPM, "openssl-libs-3.0.7-27.el9.nosrc.rpm")), "openssl-libs 3.0.7-27.el9 x86_64 - - -"},
		{"unparsable source", append(base, str(tagSourceRPM, "weird")), "openssl-libs 3.0.7-27.el9 x86_64 - - -"},
		{"i18n name", []hdrEntry{{tag: tagName, typ: typeI18N, str: "a"}, str(tagVersion, "1"), str(tagRelease, "2")}, "a 1-2 - - - -"},
		{"repeated tag: first wins", append(base[:3:3], str(tagName, "other")), "openssl-libs 3.0.7-27.el9 - - - -"},
		{"other tags ignored", append([]hdrEntry{{tag: 63, typ: 7, str: "region"}, {tag: 1004, typ: typeI18N, str: "summary"}}, base...),
			"openssl-libs 3.0.7-27.el9 x86_64 - - -"},
	} {
		p, err := rpmPackage(buildHeader(tc.entries...))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := lines([]Package{p})[0]; got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}

	if _, err := rpmPackage(buildHeader(str(tagName, "gpg-pubkey"), str(tagVersion, "fd431d51"), str(tagRelease, "4ae0493b"))); err != errPubkey {
		t.Errorf("gpg-pubkey: err = %v, want errPubkey", err)
	}
}

func TestRPMHeaderErrors(t *testing.T) {
	good := buildHeader(str(tagName, "sudo"), str(tagVersion, "1.9.5p2"), str(tagRelease, "9.el9"), hdrEntry{tag: tagEpoch, typ: typeInt32, num: 2})
	// Every truncation of a header is caught by the size check.
	for n := range len(good) {
		if _, err := rpmPackage(good[:n]); err == nil {
			t.Fatalf("header truncated to %d bytes accepted", n)
		}
	}
	set := func(entry, field int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[8+16*entry+4*field:], v)
		return b
	}
	dl := binary.BigEndian.Uint32(good[4:])
	preamble := func(il, dl uint32) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[0:], il)
		binary.BigEndian.PutUint32(b[4:], dl)
		return b
	}
	for _, tc := range []struct {
		name string
		blob []byte
		want string
	}{
		{"no entries", []byte{0, 0, 0, 0, 0, 0, 0, 0}, "index count"},
		{"huge index count", preamble(0x10000, dl), "index count"},
		{"data length too long", preamble(4, dl+1), "holds"},
		{"offset outside the data", set(0, 2, dl+100), "outside"},
		{"offset at the end", set(1, 2, dl), "outside"},
		{"count zero", set(2, 3, 0), "outside"},
		{"epoch past the end", set(3, 2, dl-2), "runs past"},
		{"name is an INT32", set(0, 1, typeInt32), "unexpected type"},
		{"epoch is a string", set(3, 1, typeString), "unexpected type"},
		{"unterminated string", func() []byte { b := set(2, 2, dl-1); b[len(b)-1] = 'x'; return b }(), "not terminated"},
		{"no name", buildHeader(str(tagVersion, "1"), str(tagRelease, "2")), "without NAME"},
		{"no release", buildHeader(str(tagName, "a"), str(tagVersion, "1")), "without VERSION or RELEASE"},
	} {
		_, err := rpmPackage(tc.blob)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestSplitSourceRPM(t *testing.T) {
	for in, want := range map[string][2]string{
		"openssh-8.7p1-38.el9.src.rpm":            {"openssh", "8.7p1-38.el9"},
		"kernel-5.14.0-427.13.1.el9_4.src.rpm":    {"kernel", "5.14.0-427.13.1.el9_4"},
		"python3.11-pip-22.3.1-4.el9.src.rpm":     {"python3.11-pip", "22.3.1-4.el9"},
		"texlive-base-20200406-26.fc34.nosrc.rpm": {"texlive-base", "20200406-26.fc34"},
	} {
		n, vr, ok := splitSourceRPM(in)
		if !ok || n != want[0] || vr != want[1] {
			t.Errorf("splitSourceRPM(%q) = %q %q %v", in, n, vr, ok)
		}
	}
	for _, bad := range []string{"", "(none)", "foo.src.rpm", "foo-1.src.rpm", "-1-2.src.rpm", "foo-1-2.rpm"} {
		if _, _, ok := splitSourceRPM(bad); ok {
			t.Errorf("splitSourceRPM(%q) accepted", bad)
		}
	}
}
