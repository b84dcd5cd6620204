package dpkgver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/internal/testenv"
)

// generatedPairs is how many random pairs TestCompareMatchesDpkg checks besides the tables.
const generatedPairs = 10000

// TestCompareMatchesDpkg checks Compare and Valid against the real dpkg: the hand-written
// tables plus generatedPairs pairs from a seeded generator, one `dpkg --compare-versions`
// per pair (asking for the relation Compare predicts, so a zero exit status confirms it), on
// several workers. dpkg's verdict on syntax must match Valid: exit status 2 exactly when one
// of the versions is fatally invalid, one warning per version Valid flags as non-fatal.
func TestCompareMatchesDpkg(t *testing.T) {
	dpkg := testenv.RequireTool(t, "dpkg")
	var pairs [][2]string
	for _, c := range compareCases {
		pairs = append(pairs, [2]string{c.a, c.b})
	}
	for _, c := range validCases {
		pairs = append(pairs, [2]string{c.v, "1.0"})
	}
	g := newVersionGen(20240611)
	for range generatedPairs {
		a, b := g.pair()
		pairs = append(pairs, [2]string{a, b})
	}

	start := time.Now()
	var next, refused, warned, equal atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	workers := max(4, 2*runtime.NumCPU())
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pairs) {
					return
				}
				outcome, problem := checkWithDpkg(dpkg, pairs[i][0], pairs[i][1])
				if Compare(pairs[i][0], pairs[i][1]) == 0 {
					equal.Add(1)
				}
				switch outcome {
				case "refused":
					refused.Add(1)
				case "warned":
					warned.Add(1)
				}
				if problem != "" {
					mu.Lock()
					failures = append(failures, problem)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for i, f := range failures {
		if i == 40 {
			t.Errorf("... and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
	t.Logf("%d pairs checked against %s in %v with %d workers (%d equal, %d refused by dpkg, %d compared with warnings)",
		len(pairs), dpkg, time.Since(start).Round(time.Millisecond), workers, equal.Load(), refused.Load(), warned.Load())
}

// checkWithDpkg runs dpkg once for the pair (more only to describe a disagreement) and returns
// "refused", "warned" or "ok", plus a description of any disagreement.
func checkWithDpkg(dpkg, a, b string) (outcome, problem string) {
	fatalA, warnA := verdict(a)
	fatalB, warnB := verdict(b)
	want := Compare(a, b)
	ops := map[int]string{-1: "lt", 0: "eq", 1: "gt"}
	rc, stderr := runCompare(dpkg, a, ops[want], b)
	switch {
	case fatalA || fatalB:
		bad := a
		if !fatalA {
			bad = b
		}
		if rc != 2 || !strings.Contains(stderr, "error: version '"+arg(bad)+"' has bad syntax") {
			return "refused", fmt.Sprintf("Valid(%q) is fatal but dpkg --compare-versions %q %s %q exited %d: %s", bad, a, ops[want], b, rc, stderr)
		}
		return "refused", ""
	case rc == 2:
		return "refused", fmt.Sprintf("dpkg refused %q vs %q but Valid accepts both: %s", a, b, stderr)
	}
	wantWarnings := 0
	for _, w := range []bool{warnA, warnB} {
		if w {
			wantWarnings++
		}
	}
	outcome = "ok"
	if wantWarnings > 0 {
		outcome = "warned"
	}
	if got := strings.Count(stderr, "warning: version '"); got != wantWarnings {
		problem = fmt.Sprintf("%q vs %q: dpkg printed %d syntax warnings, Valid flags %d: %s", a, b, got, wantWarnings, stderr)
	}
	if rc == 0 {
		return outcome, problem
	}
	actual := "?"
	for _, op := range []string{"lt", "eq", "gt"} {
		if rc, _ := runCompare(dpkg, a, op, b); rc == 0 {
			actual = op
		}
	}
	return outcome, fmt.Sprintf("Compare(%q, %q) = %d but dpkg says %s (%s)", a, b, want, actual, stderr)
}

// verdict classifies v as dpkg --compare-versions will: an empty argument is "no version",
// not an error.
func verdict(v string) (fatal, warn bool) {
	var se *SyntaxError
	if v == "" || !errors.As(Valid(v), &se) {
		return false, false
	}
	return se.Fatal, !se.Fatal
}

// arg protects a version starting with "-" from dpkg's option parser with a leading blank,
// which dpkg ignores.
func arg(v string) string {
	if strings.HasPrefix(v, "-") {
		return " " + v
	}
	return v
}

// runCompare runs `dpkg --compare-versions a op b` and returns its exit status and stderr.
func runCompare(dpkg, a, op, b string) (int, string) {
	cmd := exec.Command(dpkg, "--compare-versions", arg(a), op, arg(b))
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	default:
		return -1, err.Error()
	}
}
