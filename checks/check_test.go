package checks_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

func TestConstructors(t *testing.T) {
	tests := []struct {
		res    checks.Result
		status report.Status
		reason report.Reason
		msg    string
	}{
		{checks.Pass("ok %d", 1), report.StatusPass, "", "ok 1"},
		{checks.Fail("bad %s", "x"), report.StatusFail, "", "bad x"},
		{checks.Skip(report.ReasonNotInstalled, "no %s", "sshd"), report.StatusSkip, report.ReasonNotInstalled, "no sshd"},
		{checks.Error(report.ReasonParseError, "line %d", 3), report.StatusError, report.ReasonParseError, "line 3"},
		{checks.Pass("100%%"), report.StatusPass, "", "100%"},
	}
	for _, tt := range tests {
		if tt.res.Status != tt.status || tt.res.Reason != tt.reason || tt.res.Message != tt.msg {
			t.Errorf("got %+v, want status %s reason %q message %q", tt.res, tt.status, tt.reason, tt.msg)
		}
		if tt.res.Facts != nil || tt.res.Details != nil || tt.res.Severity != "" {
			t.Errorf("%+v: a fresh result has no facts, details or severity", tt.res)
		}
	}
}

func TestFactBuilders(t *testing.T) {
	ints := []int64{22, 2222}
	enums := []string{"tcp", "udp"}
	r := checks.Fail("x").
		Bool("enabled", true).
		Int("count", -7).
		Ints("ports_list", ints).
		Enum("mode", "strict").
		Enums("protos", enums).
		Version("openssh", "9.2p1").
		Port("port", 2222).
		Object("container", "web-1").
		Detail("file %s line %d", "/etc/ssh/sshd_config", 12).
		Detail("second").
		WithSeverity(catalog.SeverityLow)
	want := report.Facts{
		"enabled":    true,
		"count":      int64(-7),
		"ports_list": []int64{22, 2222},
		"mode":       "strict",
		"protos":     []string{"tcp", "udp"},
		"openssh":    "9.2p1",
		"port":       int64(2222), // Port stores int64 like Int
		"container":  "web-1",
	}
	if !reflect.DeepEqual(r.Facts, want) {
		t.Errorf("Facts = %#v\nwant %#v", r.Facts, want)
	}
	if !slices.Equal(r.Details, []string{"file /etc/ssh/sshd_config line 12", "second"}) {
		t.Errorf("Details = %q", r.Details)
	}
	if r.Severity != catalog.SeverityLow || r.Status != report.StatusFail {
		t.Errorf("Severity %s Status %s", r.Severity, r.Status)
	}
	// The result keeps its own copy of list facts.
	ints[0], enums[0] = 1, "mutated"
	if r.Facts["ports_list"].([]int64)[0] != 22 || r.Facts["protos"].([]string)[0] != "tcp" {
		t.Error("mutating the caller's slice changed the result's facts")
	}
	// A later value for the same key replaces the earlier one.
	r2 := r.Int("count", 5)
	if r2.Facts["count"] != int64(5) {
		t.Errorf("count = %v", r2.Facts["count"])
	}
}

func TestBuildersHaveValueSemantics(t *testing.T) {
	base := checks.Fail("base").Int("shared", 1).Detail("d0")
	// Give Details spare capacity, the case where a shared backing array would be overwritten.
	base.Details = append(make([]string, 0, 8), base.Details...)
	a := base.Int("a", 1).Detail("for a")
	b := base.Int("b", 2).Detail("for b")

	if _, ok := base.Facts["a"]; ok {
		t.Error("deriving a result added a fact to the base")
	}
	if _, ok := base.Facts["b"]; ok {
		t.Error("deriving a result added a fact to the base")
	}
	if _, ok := a.Facts["b"]; ok {
		t.Error("a sibling's fact leaked into a")
	}
	if len(base.Facts) != 1 || len(a.Facts) != 2 || len(b.Facts) != 2 {
		t.Errorf("facts: base %v a %v b %v", base.Facts, a.Facts, b.Facts)
	}
	if !slices.Equal(a.Details, []string{"d0", "for a"}) || !slices.Equal(b.Details, []string{"d0", "for b"}) {
		t.Errorf("details: a %q b %q (a sibling's detail overwrote another's)", a.Details, b.Details)
	}
	if !slices.Equal(base.Details, []string{"d0"}) {
		t.Errorf("base details changed: %q", base.Details)
	}
}

type testErr struct{}

func (testErr) Error() string { return "opaque failure" }

func TestClassify(t *testing.T) {
	pathErr := func(err error) error { return &fs.PathError{Op: "open", Path: "/etc/x", Err: err} }
	wrap := func(err error) error { return fmt.Errorf("read config: %w", err) }
	tests := []struct {
		name   string
		err    error
		reason report.Reason
		skip   bool
	}{
		{"not live", wrap(host.ErrNotLive), report.ReasonNotLive, true},
		{"command not found", wrap(host.ErrCommandNotFound), report.ReasonNotInstalled, true},
		{"not exist", pathErr(fs.ErrNotExist), report.ReasonNotFound, true},
		{"ENOENT", pathErr(syscall.ENOENT), report.ReasonNotFound, true},
		{"os.ErrNotExist", wrap(os.ErrNotExist), report.ReasonNotFound, true},
		{"ENOTDIR", pathErr(syscall.ENOTDIR), report.ReasonNotFound, true},
		{"permission", pathErr(fs.ErrPermission), report.ReasonNeedsRoot, true},
		{"EACCES", pathErr(syscall.EACCES), report.ReasonNeedsRoot, true},
		{"timeout", wrap(host.ErrTimeout), report.ReasonTimeout, false},
		{"deadline", wrap(context.DeadlineExceeded), report.ReasonTimeout, false},
		{"too large", pathErr(host.ErrTooLarge), report.ReasonTooLarge, false},
		{"loop", pathErr(host.ErrSymlinkLoop), report.ReasonSymlinkLoop, false},
		{"ELOOP", pathErr(syscall.ELOOP), report.ReasonSymlinkLoop, false},
		{"escape", pathErr(host.ErrEscapesRoot), report.ReasonPathEscape, false},
		{"parse", fmt.Errorf("parse /etc/x line 3: %w", checks.ErrParse), report.ReasonParseError, false},
		{"not regular", pathErr(host.ErrNotRegular), report.ReasonIOError, false},
		{"EIO", pathErr(syscall.EIO), report.ReasonIOError, false},
		{"other", testErr{}, report.ReasonIOError, false},
		{"joined", errors.Join(testErr{}, host.ErrCommandNotFound), report.ReasonNotInstalled, true},
	}
	for _, tt := range tests {
		reason, skip := checks.Classify(tt.err)
		if reason != tt.reason || skip != tt.skip {
			t.Errorf("%s: Classify(%v) = %s, %v; want %s, %v", tt.name, tt.err, reason, skip, tt.reason, tt.skip)
		}
		if !reason.Valid() {
			t.Errorf("%s: reason %q is not a valid reason code", tt.name, reason)
		}
		res := checks.FromError("sshd_config", tt.err)
		wantStatus := report.StatusError
		if tt.skip {
			wantStatus = report.StatusSkip
		}
		if res.Status != wantStatus || res.Reason != tt.reason {
			t.Errorf("%s: FromError = %s/%s, want %s/%s", tt.name, res.Status, res.Reason, wantStatus, tt.reason)
		}
		if !strings.HasPrefix(res.Message, "sshd_config: ") || !strings.Contains(res.Message, tt.err.Error()) {
			t.Errorf("%s: FromError message %q should name what was read and the error", tt.name, res.Message)
		}
	}
}
