package rpmver

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/internal/testenv"
)

// generatedPairs is how many random pairs TestCompareMatchesRPM checks besides the table.
const generatedPairs = 100000

// luaCompare reads pairs of EVRs (one per line) from the first file and writes one line per
// pair to the second: "invalid <a ok> <b ok>" when rpm.ver refuses a side, otherwise the
// result of rpm.vercmp and the order of the rpm.ver objects (which must agree).
const luaCompare = `
local input, output = ...
local out = assert(io.open(output, "w"))
local f = assert(io.open(input, "r"))
while true do
  local a = f:read("l")
  if a == nil then break end
  local b = f:read("l")
  local va, vb = rpm.ver(a), rpm.ver(b)
  if va == nil or vb == nil then
    out:write(string.format("invalid %s %s\n", tostring(va ~= nil), tostring(vb ~= nil)))
  else
    local viaVer = 1
    if va < vb then viaVer = -1 elseif va == vb then viaVer = 0 end
    out:write(string.format("%d %d\n", rpm.vercmp(a, b), viaVer))
  end
end
out:close()
f:close()
`

// TestCompareMatchesRPM checks Compare against rpm's own EVR comparison (rpm.vercmp and the
// rpm.ver objects of rpm's Lua interpreter, both rpmverCmp) on the table plus generatedPairs
// generated pairs, in a single `rpm --eval` run. The Debian package "rpm" provides it.
func TestCompareMatchesRPM(t *testing.T) {
	rpm := testenv.RequireTool(t, "rpm")
	var pairs [][2]string
	for _, c := range compareCases {
		pairs = append(pairs, [2]string{c.a, c.b})
	}
	g := newEVRGen(20240611)
	for len(pairs) < len(compareCases)+generatedPairs {
		a, b := g.pair()
		if strings.ContainsAny(a+b, "\n\r") {
			continue // one EVR per line
		}
		pairs = append(pairs, [2]string{a, b})
	}

	dir := t.TempDir()
	in, out, script := filepath.Join(dir, "pairs"), filepath.Join(dir, "results"), filepath.Join(dir, "compare.lua")
	var b strings.Builder
	for _, p := range pairs {
		b.WriteString(p[0] + "\n" + p[1] + "\n")
	}
	for name, data := range map[string]string{in: b.String(), script: luaCompare} {
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// rpm's Lua has no argv for dofile; loadfile returns a chunk that takes the paths as "...".
	expr := fmt.Sprintf("%%{lua: assert(loadfile(%q))(%q, %q)}", script, in, out)
	start := time.Now()
	cmd := exec.Command(rpm, "--eval", expr)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpm --eval: %v: %s", err, msg)
	}
	elapsed := time.Since(start)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	n, equal, refused, failures := 0, 0, 0, 0
	for ; sc.Scan(); n++ {
		if n >= len(pairs) {
			t.Fatalf("rpm wrote more results than the %d pairs", len(pairs))
		}
		a, b := pairs[n][0], pairs[n][1]
		fields := strings.Fields(sc.Text())
		var problem string
		switch {
		case len(fields) == 3 && fields[0] == "invalid":
			refused++
			_, errA := Parse(a)
			_, errB := Parse(b)
			if (errA == nil) != (fields[1] == "true") || (errB == nil) != (fields[2] == "true") {
				problem = fmt.Sprintf("rpm accepts %q: %s, %q: %s; Parse errors %v, %v", a, fields[1], b, fields[2], errA, errB)
			}
		case len(fields) == 2:
			got, err1 := strconv.Atoi(fields[0])
			viaVer, err2 := strconv.Atoi(fields[1])
			want := Compare(a, b)
			switch {
			case err1 != nil || err2 != nil:
				problem = fmt.Sprintf("unreadable rpm result %q", sc.Text())
			case got != viaVer:
				problem = fmt.Sprintf("rpm disagrees with itself on %q vs %q: vercmp %d, rpm.ver %d", a, b, got, viaVer)
			case got != want:
				problem = fmt.Sprintf("Compare(%q, %q) = %d but rpm.vercmp says %d", a, b, want, got)
			case want == 0:
				equal++
			}
		default:
			problem = fmt.Sprintf("unreadable rpm result %q", sc.Text())
		}
		if problem != "" {
			if failures++; failures <= 40 {
				t.Error(problem)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(pairs) {
		t.Fatalf("rpm wrote %d results for %d pairs", n, len(pairs))
	}
	if failures > 40 {
		t.Errorf("... %d disagreements in all", failures)
	}
	t.Logf("%d pairs checked against %s in one run of %v (%d equal, %d refused as empty)",
		len(pairs), rpm, elapsed.Round(time.Millisecond), equal, refused)
}
