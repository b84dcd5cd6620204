package upload

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// validPayload returns a payload that validates, for an audit started at t.
func validPayload(t *testing.T, cat *catalog.Catalog, at time.Time) Item {
	t.Helper()
	id, err := report.NewAuditID(at)
	if err != nil {
		t.Fatal(err)
	}
	p := &report.Payload{
		SchemaVersion: report.SchemaVersion, AuditID: id, AgentVersion: "1.0.0",
		StartedAt: at.UTC().Format(time.RFC3339), Host: report.PayloadHost{OS: "linux"},
		Score: 100, Grade: "A", Results: []report.PayloadResult{},
	}
	if err := p.Validate(cat); err != nil {
		t.Fatalf("test payload does not validate: %v", err)
	}
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return Item{AuditID: id, Payload: data}
}

func loadCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestSpoolPermissionsAndContent(t *testing.T) {
	cat := loadCatalog(t)
	dir := filepath.Join(t.TempDir(), "state", "spool")
	sp := OpenSpool(dir, SpoolOptions{})
	it := validPayload(t, cat, time.Now())
	path, err := sp.Add(it.AuditID, it.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("spool directory mode %04o, want 0700", st.Mode().Perm())
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || filepath.Base(path) != it.AuditID+".json" {
		t.Errorf("spool file %s mode %04o, want <audit id>.json 0600", path, st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !bytes.Equal(data, it.Payload) {
		t.Error("the spool file is not exactly the payload")
	}
	// A directory someone widened is narrowed again.
	os.Chmod(dir, 0o755)
	if _, err := sp.Add(it.AuditID, it.Payload); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("spool directory mode %04o after re-add, want 0700", st.Mode().Perm())
	}
	if _, err := sp.Add("../escape", it.Payload); err == nil {
		t.Error("a non-UUID name was accepted")
	}
}

func TestSpoolBounds(t *testing.T) {
	cat := loadCatalog(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	sp := OpenSpool(t.TempDir(), SpoolOptions{MaxEntries: 3, MaxAge: 48 * time.Hour, Logger: log, Now: func() time.Time { return now }})
	old := validPayload(t, cat, now.Add(-72*time.Hour)) // beyond the age bound
	var items []Item
	for i := 5; i >= 1; i-- {
		items = append(items, validPayload(t, cat, now.Add(-time.Duration(i)*time.Hour)))
	}
	if _, err := sp.Add(old.AuditID, old.Payload); err != nil {
		t.Fatal(err)
	}
	if entries, _ := sp.List(); len(entries) != 0 {
		t.Errorf("an audit older than the age bound stayed: %v", entries)
	}
	for _, it := range items {
		if _, err := sp.Add(it.AuditID, it.Payload); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := sp.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.AuditID)
	}
	want := []string{items[2].AuditID, items[3].AuditID, items[4].AuditID}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("spool %v, want the 3 newest oldest first %v", got, want)
	}
	for _, dropped := range []string{old.AuditID, items[0].AuditID, items[1].AuditID} {
		if !strings.Contains(logs.String(), dropped) {
			t.Errorf("no warning for dropped audit %s:\n%s", dropped, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("drops must be warnings:\n%s", logs.String())
	}
}

func TestSpoolListIgnoresStrangersAndCleansTemp(t *testing.T) {
	dir := t.TempDir()
	sp := OpenSpool(dir, SpoolOptions{})
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "not-a-uuid.json"), []byte("x"), 0o600)
	stale := filepath.Join(dir, ".0192a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b.json.tmp-123")
	os.WriteFile(stale, []byte("x"), 0o600)
	past := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, past, past)
	fresh := filepath.Join(dir, ".0192a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b.json.tmp-456")
	os.WriteFile(fresh, []byte("x"), 0o600)
	entries, err := sp.List()
	if err != nil || len(entries) != 0 {
		t.Errorf("List = %v, %v; want nothing", entries, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("a stale temporary file was kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary file (another run writing) was removed")
	}
	if entries, err := OpenSpool(filepath.Join(dir, "missing"), SpoolOptions{}).List(); err != nil || entries != nil {
		t.Errorf("a missing spool: %v, %v; want empty", entries, err)
	}
}

// fakeAPI answers per audit id; it records the order of requests.
type fakeAPI struct {
	mu     sync.Mutex
	order  []string
	status map[string]int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("Idempotency-Key")
	f.mu.Lock()
	f.order = append(f.order, id)
	status := f.status[id]
	f.mu.Unlock()
	if status == 0 {
		status = http.StatusAccepted
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"audit_id":%q,"report_url":"https://x/%s","type":"https://e/#code"}`, id, id)
}

func TestDeliverOrderCorruptAndRejected(t *testing.T) {
	cat := loadCatalog(t)
	now := time.Now()
	a, b, c := validPayload(t, cat, now.Add(-3*time.Hour)), validPayload(t, cat, now.Add(-2*time.Hour)), validPayload(t, cat, now.Add(-time.Hour))
	corrupt := validPayload(t, cat, now.Add(-150*time.Minute))
	current := validPayload(t, cat, now)
	api := &fakeAPI{status: map[string]int{b.AuditID: http.StatusUnprocessableEntity}}
	srv, ca := tlsServer(t, api)
	client := newTestClient(t, srv.URL, ca, nil)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	sp := OpenSpool(t.TempDir(), SpoolOptions{Logger: log})
	for _, it := range []Item{c, a, b} {
		sp.Add(it.AuditID, it.Payload)
	}
	sp.Add(corrupt.AuditID, []byte(`{"audit_id": "truncated`))

	out, err := Deliver(context.Background(), client, sp, cat, &current, log)
	if err != nil || out.Failure != nil {
		t.Fatalf("Deliver: %v, %v", err, out.Failure)
	}
	want := []string{a.AuditID, b.AuditID, c.AuditID, current.AuditID}
	if fmt.Sprint(api.order) != fmt.Sprint(want) {
		t.Errorf("sent %v, want oldest first then the current %v", api.order, want)
	}
	if len(out.Delivered) != 3 || out.Current == nil || out.Remaining != 0 {
		t.Errorf("outcome %+v", out)
	}
	if fmt.Sprint(out.Dropped) != fmt.Sprint([]string{corrupt.AuditID, b.AuditID}) {
		t.Errorf("dropped %v, want the corrupt one and the refused one", out.Dropped)
	}
	if !strings.Contains(logs.String(), "corrupt") {
		t.Errorf("no warning about the corrupt file:\n%s", logs.String())
	}
}

func TestDeliverStopsOnUnauthorizedAndSpoolsOnOutage(t *testing.T) {
	cat := loadCatalog(t)
	now := time.Now()
	old, current := validPayload(t, cat, now.Add(-time.Hour)), validPayload(t, cat, now)

	// 401: the spool stays for a new token, the current audit is not spooled.
	api := &fakeAPI{status: map[string]int{old.AuditID: http.StatusUnauthorized}}
	srv, ca := tlsServer(t, api)
	sp := OpenSpool(t.TempDir(), SpoolOptions{})
	sp.Add(old.AuditID, old.Payload)
	out, err := Deliver(context.Background(), newTestClient(t, srv.URL, ca, nil), sp, cat, &current, nil)
	if err != nil || out.Failure == nil || out.Failure.Kind != Unauthorized || out.SpooledPath != "" || out.Remaining != 1 || len(api.order) != 1 {
		t.Fatalf("401: outcome %+v (%v), requests %v", out, err, api.order)
	}

	// 503 until the deadline: the current audit is spooled untried, after the old one.
	api = &fakeAPI{status: map[string]int{old.AuditID: http.StatusServiceUnavailable}}
	srv, ca = tlsServer(t, api)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err = Deliver(ctx, newTestClient(t, srv.URL, ca, nil), sp, cat, &current, nil)
	if err != nil || out.Failure == nil || out.Failure.Kind != Temporary || out.SpooledPath == "" || out.Remaining != 2 {
		t.Fatalf("503: outcome %+v (%v)", out, err)
	}
	for _, id := range api.order {
		if id != old.AuditID {
			t.Errorf("the current audit was sent while older ones were waiting")
		}
	}
}
