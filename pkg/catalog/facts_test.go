package catalog_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/pkg/catalog"
)

func i64(v int64) *int64 { return &v }

var (
	boolSchema     = catalog.FactSchema{Type: catalog.FactBool, Description: "d"}
	intSchema      = catalog.FactSchema{Type: catalog.FactInt, Description: "d", Min: i64(-5), Max: i64(1000)}
	fullIntSchema  = catalog.FactSchema{Type: catalog.FactInt, Description: "d", Min: i64(math.MinInt64), Max: i64(math.MaxInt64)}
	intsSchema     = catalog.FactSchema{Type: catalog.FactInt, Description: "d", Min: i64(0), Max: i64(9), List: true, MaxItems: 3}
	enumSchema     = catalog.FactSchema{Type: catalog.FactEnum, Description: "d", Values: []string{"yes", "no", "prohibit-password"}}
	enumsSchema    = catalog.FactSchema{Type: catalog.FactEnum, Description: "d", Values: []string{"tcp", "udp"}, List: true}
	versionSchema  = catalog.FactSchema{Type: catalog.FactVersion, Description: "d"}
	versionsSchema = catalog.FactSchema{Type: catalog.FactVersion, Description: "d", List: true, MaxItems: 2}
	portSchema     = catalog.FactSchema{Type: catalog.FactPort, Description: "d"}
	portsSchema    = catalog.FactSchema{Type: catalog.FactPort, Description: "d", List: true}
	objectSchema   = catalog.FactSchema{Type: catalog.FactObject, Description: "d"}
	objectsSchema  = catalog.FactSchema{Type: catalog.FactObject, Description: "d", List: true}
)

// fakeHash is a recognisable ObjectHasher.
func fakeHash(name string) string { return "hash(" + name + ")" }

const hex32 = "0123456789abcdef0123456789abcdef"

func TestNormalize(t *testing.T) {
	long := strings.Repeat("1", 64)
	tooLong := strings.Repeat("1", 65)
	tests := []struct {
		name   string
		schema catalog.FactSchema
		in     any
		want   any // nil: an error is expected
	}{
		{"bool true", boolSchema, true, true},
		{"bool false", boolSchema, false, false},
		{"bool from string", boolSchema, "true", nil},
		{"bool from int", boolSchema, 1, nil},
		{"bool nil", boolSchema, nil, nil},

		{"int", intSchema, 42, int64(42)},
		{"int64", intSchema, int64(-5), int64(-5)},
		{"int max", intSchema, int64(1000), int64(1000)},
		{"int below", intSchema, -6, nil},
		{"int above", intSchema, 1001, nil},
		{"int8", intSchema, int8(7), int64(7)},
		{"int16", intSchema, int16(7), int64(7)},
		{"int32", intSchema, int32(7), int64(7)},
		{"uint8", intSchema, uint8(7), int64(7)},
		{"uint16", intSchema, uint16(7), int64(7)},
		{"uint32", intSchema, uint32(7), int64(7)},
		{"uint", intSchema, uint(7), int64(7)},
		{"uint64", intSchema, uint64(7), int64(7)},
		{"uint64 overflow", fullIntSchema, uint64(math.MaxUint64), nil},
		{"uint overflow", fullIntSchema, uint(math.MaxInt64) + 1, nil},
		{"json number", intSchema, json.Number("12"), int64(12)},
		{"json number float", intSchema, json.Number("1.5"), nil},
		{"json number exp", intSchema, json.Number("1e2"), nil},
		{"json number huge", fullIntSchema, json.Number("9223372036854775808"), nil},
		{"float integral", intSchema, float64(3), int64(3)},
		{"float fraction", intSchema, 3.5, nil},
		{"float NaN", fullIntSchema, math.NaN(), nil},
		{"float +Inf", fullIntSchema, math.Inf(1), nil},
		{"float 2^63", fullIntSchema, 0x1p63, nil},
		{"float -2^63", fullIntSchema, -0x1p63, int64(math.MinInt64)},
		{"float big", fullIntSchema, 1e300, nil},
		{"int from string", intSchema, "42", nil},
		{"int from version string", intSchema, "1.2", nil},
		{"int from bool", intSchema, true, nil},
		{"int from list", intSchema, []int64{1}, nil},
		{"int extremes", fullIntSchema, int64(math.MaxInt64), int64(math.MaxInt64)},

		{"ints", intsSchema, []int64{1, 2, 9}, []int64{1, 2, 9}},
		{"ints any", intsSchema, []any{1, int64(2), json.Number("3")}, []int64{1, 2, 3}},
		{"ints []int", intsSchema, []int{4}, []int64{4}},
		{"ints empty", intsSchema, []int64{}, []int64{}},
		{"ints too many", intsSchema, []int64{1, 2, 3, 4}, nil},
		{"ints out of range", intsSchema, []int64{1, 10}, nil},
		{"ints with string", intsSchema, []any{1, "2"}, nil},
		{"ints nested", intsSchema, []any{[]any{1}}, nil},
		{"ints scalar", intsSchema, int64(1), nil},
		{"ints nil", intsSchema, nil, nil},
		{"ints map", intsSchema, map[string]any{"a": 1}, nil},

		{"enum declared", enumSchema, "prohibit-password", "prohibit-password"},
		{"enum undeclared", enumSchema, "without-password", catalog.OtherValue},
		{"enum secret", enumSchema, "hunter2 my password", catalog.OtherValue},
		{"enum other", enumSchema, "other", catalog.OtherValue},
		{"enum empty", enumSchema, "", catalog.OtherValue},
		{"enum case", enumSchema, "Yes", catalog.OtherValue},
		{"enum from int", enumSchema, 1, nil},
		{"enum from list", enumSchema, []string{"yes"}, nil},
		{"enums", enumsSchema, []string{"udp", "sctp", "tcp"}, []string{"udp", catalog.OtherValue, "tcp"}},
		{"enums any", enumsSchema, []any{"tcp", "x y"}, []string{"tcp", catalog.OtherValue}},
		{"enums with int", enumsSchema, []any{"tcp", 1}, nil},
		{"enums default max", enumsSchema, make([]string, catalog.DefaultMaxItems+1), nil},
		{"enums at default max", enumsSchema, make([]string, catalog.DefaultMaxItems), repeat(catalog.OtherValue, catalog.DefaultMaxItems)},

		{"version", versionSchema, "1:9.2p1-2+deb12u3~bpo_1", "1:9.2p1-2+deb12u3~bpo_1"},
		{"version 64", versionSchema, long, long},
		{"version 65", versionSchema, tooLong, nil},
		{"version empty", versionSchema, "", nil},
		{"version space", versionSchema, "OpenSSH 9.2", nil},
		{"version slash", versionSchema, "/usr/sbin/sshd", nil},
		{"version newline", versionSchema, "1.2\n", nil},
		{"version unicode", versionSchema, "1.2é", nil},
		{"version int", versionSchema, 12, nil},
		{"versions", versionsSchema, []string{"1.0", "2.0"}, []string{"1.0", "2.0"}},
		{"versions bad item", versionsSchema, []string{"1.0", "2 0"}, nil},
		{"versions too many", versionsSchema, []string{"1", "2", "3"}, nil},

		{"port", portSchema, 22, int64(22)},
		{"port max", portSchema, 65535, int64(65535)},
		{"port 0", portSchema, 0, nil},
		{"port 65536", portSchema, 65536, nil},
		{"port negative", portSchema, -22, nil},
		{"port string", portSchema, "22", nil},
		{"ports", portsSchema, []int64{22, 443}, []int64{22, 443}},
		{"ports bad", portsSchema, []int64{22, 0}, nil},

		{"object", objectSchema, "web-1", "hash(web-1)"},
		{"object empty", objectSchema, "", nil},
		{"object int", objectSchema, 3, nil},
		{"objects", objectsSchema, []string{"a", "b"}, []string{"hash(a)", "hash(b)"}},
		{"objects empty name", objectsSchema, []string{"a", ""}, nil},
	}
	for _, tt := range tests {
		got, err := tt.schema.Normalize(tt.in, fakeHash)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: Normalize(%#v) = %#v; want an error", tt.name, tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Normalize(%#v) = %#v, %v; want %#v", tt.name, tt.in, got, err, tt.want)
		}
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// wire decodes a JSON value the way DecodePayload does.
func wire(t *testing.T, js string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", js, err)
	}
	return v
}

func TestValidateWire(t *testing.T) {
	tests := []struct {
		name   string
		schema catalog.FactSchema
		js     string
		want   any // nil: an error is expected
	}{
		{"bool", boolSchema, `true`, true},
		{"bool string", boolSchema, `"true"`, nil},
		{"bool null", boolSchema, `null`, nil},
		{"int", intSchema, `1000`, int64(1000)},
		{"int negative", intSchema, `-5`, int64(-5)},
		{"int out of range", intSchema, `1001`, nil},
		{"int float", intSchema, `1.5`, nil},
		{"int float integral", intSchema, `1.0`, nil},
		{"int exponent", intSchema, `1e2`, nil},
		{"int string", intSchema, `"12"`, nil},
		{"int huge", fullIntSchema, `123456789012345678901234567890`, nil},
		{"int object", intSchema, `{"a":1}`, nil},
		{"ints", intsSchema, `[1,2]`, []int64{1, 2}},
		{"ints nested", intsSchema, `[[1]]`, nil},
		{"ints too many", intsSchema, `[1,2,3,4]`, nil},
		{"ints scalar", intsSchema, `1`, nil},
		{"enum declared", enumSchema, `"yes"`, "yes"},
		{"enum other", enumSchema, `"other"`, "other"},
		{"enum undeclared", enumSchema, `"maybe"`, nil},
		{"enum free text", enumSchema, `"root password is hunter2"`, nil},
		{"enum number", enumSchema, `1`, nil},
		{"enums", enumsSchema, `["tcp","other"]`, []string{"tcp", "other"}},
		{"enums undeclared", enumsSchema, `["tcp","sctp"]`, nil},
		{"enums nested", enumsSchema, `[["tcp"]]`, nil},
		{"enums scalar", enumsSchema, `"tcp"`, nil},
		{"version", versionSchema, `"9.2p1"`, "9.2p1"},
		{"version space", versionSchema, `"9.2 p1"`, nil},
		{"version number", versionSchema, `9.2`, nil},
		{"versions", versionsSchema, `["1","2"]`, []string{"1", "2"}},
		{"port", portSchema, `443`, int64(443)},
		{"port zero", portSchema, `0`, nil},
		{"ports", portsSchema, `[22,443]`, []int64{22, 443}},
		{"ports out of range", portsSchema, `[22,70000]`, nil},
		{"object", objectSchema, `"` + hex32 + `"`, hex32},
		{"object name", objectSchema, `"web-frontend"`, nil},
		{"object upper hex", objectSchema, `"` + strings.ToUpper(hex32) + `"`, nil},
		{"object short", objectSchema, `"` + hex32[:31] + `"`, nil},
		{"object long", objectSchema, `"` + hex32 + `0"`, nil},
		{"objects", objectsSchema, `["` + hex32 + `"]`, []string{hex32}},
		{"objects name", objectsSchema, `["` + hex32 + `","db"]`, nil},
	}
	for _, tt := range tests {
		got, err := tt.schema.ValidateWire(wire(t, tt.js))
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: ValidateWire(%s) = %#v; want an error", tt.name, tt.js, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ValidateWire(%s) = %#v, %v; want %#v", tt.name, tt.js, got, err, tt.want)
		}
	}
}

func TestPatterns(t *testing.T) {
	for s, want := range map[string]bool{
		"1.2.3": true, "9.2p1": true, "1:2.36-9+deb12u4": true, "2.4~rc1": true, "a_b": true,
		"": false, "1 2": false, "1/2": false, "1;2": false, "\"1\"": false, strings.Repeat("9", 64): true, strings.Repeat("9", 65): false,
	} {
		if catalog.VersionPattern.MatchString(s) != want {
			t.Errorf("VersionPattern(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		hex32: true, strings.ToUpper(hex32): false, hex32[:31]: false, hex32 + "0": false, "g" + hex32[1:]: false,
	} {
		if catalog.ObjectPattern.MatchString(s) != want {
			t.Errorf("ObjectPattern(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		"yes": true, "prohibit-password": true, "1.2": true, "a+b": true, "a_b": true,
		"": false, "-a": false, "A": false, "a b": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false,
	} {
		if catalog.EnumValuePattern.MatchString(s) != want {
			t.Errorf("EnumValuePattern(%q) = %v", s, !want)
		}
	}
}
