package report_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/pkg/score"
)

// syntheticYAML declares every fact type, scalar and list.
const syntheticYAML = `version: 1
families:
  - name: test
    title: Test checks
  - name: more
    title: More checks
checks:
  - id: test.alpha
    title: Alpha holds
    severity: high
    rationale: r
    remediation: Fix alpha.
    references: [{title: ref}]
    facts:
      enabled: {type: bool, description: d}
      count: {type: int, description: d, min: 0, max: 100}
      mode: {type: enum, description: d, values: [yes, no, prohibit-password]}
      sshd: {type: version, description: d}
      port: {type: port, description: d}
      container: {type: object, description: d}
  - id: test.lists
    title: Lists hold
    severity: medium
    rationale: r
    remediation: Fix lists.
    references: [{title: ref}]
    facts:
      ports: {type: port, description: d, list: true, max_items: 5}
      counts: {type: int, description: d, min: -10, max: 10, list: true}
      protos: {type: enum, description: d, values: [tcp, udp, sctp-1.0], list: true}
      versions: {type: version, description: d, list: true, max_items: 3}
      containers: {type: object, description: d, list: true, max_items: 4}
  - id: test.crit
    title: Critical holds
    severity: critical
    rationale: r
    remediation: Fix crit.
    references: [{title: ref}]
  - id: test.low
    title: Low holds
    severity: low
    rationale: r
    remediation: Fix low.
    references: [{title: ref}]
    facts:
      level: {type: int, description: d, min: -9223372036854775808, max: 9223372036854775807}
  - id: more.info
    title: Info holds
    severity: info
    rationale: r
    remediation: Fix info.
    references: [{title: ref}]
    facts:
      flag: {type: bool, description: d}
`

func syntheticCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Parse([]byte(syntheticYAML))
	if err != nil {
		t.Fatalf("synthetic catalog: %v", err)
	}
	return cat
}

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func newReport(t testing.TB, results ...report.Result) *report.Report {
	t.Helper()
	started := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	id, err := report.NewAuditID(started)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		AuditID:       id,
		Agent:         report.Agent{Version: "1.2.3", Commit: "abc123"},
		StartedAt:     started,
		DurationMS:    420,
		Host: report.Host{
			Hostname: "web-01", Root: "/", Live: true, OS: "linux", Arch: "amd64",
			Distro: "debian", DistroVersion: "12", DistroName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-18-amd64",
		},
		Results: results,
	}
	r.Summary = report.Summarize(r.Results)
	return r
}

func result(id string, sev catalog.Severity, status report.Status, reason report.Reason, facts report.Facts) report.Result {
	return report.Result{ID: id, Family: strings.Split(id, ".")[0], Title: "title of " + id, Severity: sev, Status: status, Reason: reason, Facts: facts}
}

func payload(t testing.TB, cat *catalog.Catalog, r *report.Report) (*report.Payload, []byte) {
	t.Helper()
	p, err := r.Payload(cat, report.PayloadOptions{ObjectKey: testKey})
	if err != nil {
		t.Fatalf("Payload: %v", err)
	}
	data, err := p.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return p, data
}

func TestPayloadNeverContainsLocalOnlyFields(t *testing.T) {
	cat := syntheticCatalog(t)
	markers := map[string]string{
		"message":            "MARKER message 5f1c",
		"detail":             "MARKER detail /etc/ssh/sshd_config:12 9a7e",
		"remediation":        "MARKER remediation 77b0",
		"suppression reason": "MARKER suppression ticket 1d2e",
		"suppression until":  "MARKER until 2030",
		"hostname":           "MARKER-hostname-db-prod-3c4d.internal",
		"root":               "/mnt/MARKER-root-8e9f",
		"distro name":        "MARKER Distro Name 2b3a",
		"title":              "MARKER title 6c6c",
		"family":             "MARKER family 4d4d",
		"commit":             "MARKER commit 3e3e",
		"enum value":         "MARKER enum value 1f1f",
		"undeclared value":   "MARKER undeclared 0a0a",
		"version with space": "MARKER 1.2.3",
		"object name":        "MARKER-object-container-name-9b9b",
		"int as string":      "MARKER 42",
	}
	failing := result("test.alpha", catalog.SeverityHigh, report.StatusFail, "", report.Facts{
		"mode":       markers["enum value"],
		"undeclared": markers["undeclared value"],
		"sshd":       markers["version with space"],
		"container":  markers["object name"],
		"count":      markers["int as string"],
		"enabled":    true,
	})
	failing.Message = markers["message"]
	failing.Details = []string{markers["detail"], "second detail"}
	failing.Remediation = markers["remediation"]
	failing.Title = markers["title"]
	failing.Family = markers["family"]
	sup := result("test.crit", catalog.SeverityCritical, report.StatusSkip, report.ReasonSuppressed, nil)
	sup.Suppression = &report.Suppression{Reason: markers["suppression reason"], Until: markers["suppression until"]}
	sup.Message = markers["message"]
	r := newReport(t, failing, sup)
	r.Agent.Commit = markers["commit"]
	r.Host.Hostname = markers["hostname"]
	r.Host.Root = markers["root"]
	r.Host.DistroName = markers["distro name"]

	p, data := payload(t, cat, r)
	for what, m := range markers {
		for _, needle := range []string{m, "MARKER"} {
			if bytes.Contains(data, []byte(needle)) {
				t.Errorf("payload contains the %s (%q):\n%s", what, needle, data)
			}
		}
	}
	// The local report, by contrast, carries them (the test would be vacuous otherwise).
	local, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for what, m := range markers {
		if what == "enum value" || what == "undeclared value" || what == "version with space" || what == "object name" || what == "int as string" {
			continue // facts: marshalled too, but via the map
		}
		if !bytes.Contains(local, []byte(m)) {
			t.Errorf("the local report lacks the %s", what)
		}
	}
	if p.Results[0].Facts["mode"] != catalog.OtherValue {
		t.Errorf("enum fact = %v, want other", p.Results[0].Facts["mode"])
	}
	if p.DroppedFacts != 3 { // undeclared, version with a space, int as a string
		t.Errorf("DroppedFacts = %d, want 3", p.DroppedFacts)
	}
}

func TestPayloadDropsAndCountsFacts(t *testing.T) {
	cat := syntheticCatalog(t)
	alpha := result("test.alpha", catalog.SeverityHigh, report.StatusFail, "", report.Facts{
		"enabled":   "yes",               // string into bool: dropped
		"count":     int64(101),          // out of range: dropped
		"mode":      "prohibit-password", // kept
		"sshd":      "9.2p1",             // kept
		"port":      0,                   // out of range: dropped
		"container": "",                  // empty name: dropped
		"Count":     1,                   // undeclared (case): dropped
		"password":  "hunter2",           // undeclared: dropped
	})
	lists := result("test.lists", catalog.SeverityMedium, report.StatusPass, "", report.Facts{
		"ports":      []int64{22, 80, 443, 8080, 8443, 9000}, // 6 > max_items 5: dropped
		"counts":     []any{-10, int64(10), float64(3)},      // kept
		"protos":     []string{"tcp", "quic"},                // kept with other
		"versions":   []string{"1.0", "bad version"},         // one bad item: dropped
		"containers": []string{"web", "db"},                  // kept, hashed
	})
	low := result("test.low", catalog.SeverityLow, report.StatusPass, "", report.Facts{"level": []any{[]any{1}}}) // nested: dropped
	p, _ := payload(t, cat, newReport(t, alpha, lists, low))
	if p.DroppedFacts != 9 { // six in alpha, two in lists, one in low
		t.Errorf("DroppedFacts = %d, want 9", p.DroppedFacts)
	}
	wantAlpha := map[string]any{"mode": "prohibit-password", "sshd": "9.2p1"}
	if !reflect.DeepEqual(p.Results[0].Facts, wantAlpha) {
		t.Errorf("alpha facts = %#v, want %#v", p.Results[0].Facts, wantAlpha)
	}
	f := p.Results[1].Facts
	if !reflect.DeepEqual(f["counts"], []int64{-10, 10, 3}) || !reflect.DeepEqual(f["protos"], []string{"tcp", "other"}) {
		t.Errorf("list facts = %#v", f)
	}
	if _, ok := f["ports"]; ok {
		t.Error("an over-long list was kept")
	}
	if _, ok := f["versions"]; ok {
		t.Error("a list with an invalid item was kept")
	}
	if p.Results[2].Facts != nil {
		t.Errorf("low facts = %#v, want none", p.Results[2].Facts)
	}
}

func objectID(key []byte, name string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(name))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func TestPayloadObjectFacts(t *testing.T) {
	cat := syntheticCatalog(t)
	names := []string{"web-frontend", "db_primary", strings.Repeat("container-name-", 8), "ünïcode näme", "0123456789abcdef0123456789abcdef"}
	build := func(key []byte, name string) string {
		t.Helper()
		r := newReport(t, result("test.alpha", catalog.SeverityHigh, report.StatusPass, "", report.Facts{"container": name}))
		p, err := r.Payload(cat, report.PayloadOptions{ObjectKey: key})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := p.Results[0].Facts["container"].(string)
		return id
	}
	otherKey := []byte("another per-host secret salt....")
	for _, name := range names {
		id := build(testKey, name)
		if !catalog.ObjectPattern.MatchString(id) || len(id) != 32 {
			t.Errorf("object id %q is not 32 lowercase hex", id)
		}
		if again := build(testKey, name); again != id {
			t.Errorf("object id for %q is not stable: %s then %s", name, id, again)
		}
		if id == name || strings.Contains(id, name) {
			t.Errorf("object id %q reveals the name %q", id, name)
		}
		if other := build(otherKey, name); other == id {
			t.Errorf("object id for %q is the same under another key", name)
		}
		// The wire id is the first 16 bytes of HMAC-SHA256(key, name): the server and
		// earlier agent versions depend on it staying so.
		if want := objectID(testKey, name); id != want {
			t.Errorf("object id for %q = %s, want %s", name, id, want)
		}
	}
	if build(testKey, "a") == build(testKey, "b") {
		t.Error("two names share an id")
	}

	// Lists hash every item; the same name gives the same id within the list.
	r := newReport(t, result("test.lists", catalog.SeverityMedium, report.StatusPass, "", report.Facts{"containers": []string{"web", "db", "web"}}))
	p, _ := payload(t, cat, r)
	ids := p.Results[0].Facts["containers"].([]string)
	if len(ids) != 3 || ids[0] != ids[2] || ids[0] == ids[1] || ids[0] != objectID(testKey, "web") {
		t.Errorf("list object ids = %v", ids)
	}

	// Without a key, a random one is used: consistent within a payload, not across.
	r = newReport(t, result("test.lists", catalog.SeverityMedium, report.StatusPass, "", report.Facts{"containers": []string{"web", "web"}}))
	p1, err := r.Payload(cat, report.PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := r.Payload(cat, report.PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := p1.Results[0].Facts["containers"].([]string), p2.Results[0].Facts["containers"].([]string)
	if a[0] != a[1] || a[0] == b[0] || !catalog.ObjectPattern.MatchString(a[0]) {
		t.Errorf("random-key ids: %v then %v", a, b)
	}
}

func TestPayloadFields(t *testing.T) {
	cat := syntheticCatalog(t)
	results := []report.Result{
		result("test.alpha", catalog.SeverityHigh, report.StatusPass, report.ReasonNotFound, nil), // reason on pass: stripped
		result("test.crit", catalog.SeverityCritical, report.StatusFail, "", nil),
		result("test.low", catalog.SeverityLow, report.StatusSkip, report.ReasonNotInstalled, nil),
		result("more.info", catalog.SeverityInfo, report.StatusError, report.ReasonTimeout, nil),
	}
	r := newReport(t, results...)
	r.StartedAt = time.Date(2025, 3, 4, 7, 6, 7, 123, time.FixedZone("CET+2", 2*3600))
	r.DurationMS = -5
	r.Agent.Version = "dev build"
	r.Host = report.Host{OS: "plan9", Arch: "riscv64", Distro: "mydistro", DistroVersion: "12 (bookworm)", Kernel: "6.1.0-18-amd64", Live: false}
	p, data := payload(t, cat, r)
	if p.SchemaVersion != report.SchemaVersion || p.AuditID != r.AuditID || p.AgentVersion != "unknown" {
		t.Errorf("header: %d %s %s", p.SchemaVersion, p.AuditID, p.AgentVersion)
	}
	if p.StartedAt != "2025-03-04T05:06:07Z" {
		t.Errorf("StartedAt = %s, want UTC without fraction", p.StartedAt)
	}
	if p.DurationMS != 0 {
		t.Errorf("DurationMS = %d, want a negative duration clamped to 0", p.DurationMS)
	}
	wantHost := report.PayloadHost{OS: "other", Arch: "other", Distro: "other", DistroVersion: "", Kernel: "6.1.0-18-amd64", Live: false}
	if p.Host != wantHost {
		t.Errorf("Host = %+v, want %+v", p.Host, wantHost)
	}
	wantResults := []report.PayloadResult{
		{ID: "test.alpha", Status: "pass", Severity: "high"},
		{ID: "test.crit", Status: "fail", Severity: "critical"},
		{ID: "test.low", Status: "skip", Severity: "low", Reason: "not_installed"},
		{ID: "more.info", Status: "error", Severity: "info", Reason: "timeout"},
	}
	if !reflect.DeepEqual(p.Results, wantResults) {
		t.Errorf("Results = %+v\nwant %+v", p.Results, wantResults)
	}
	// high passed (5), critical failed (10): 5/15 = 33, F.
	if p.Score != 33 || p.Grade != score.GradeF {
		t.Errorf("score %d grade %s", p.Score, p.Grade)
	}
	if !bytes.HasSuffix(data, []byte("}\n")) || bytes.Count(data, []byte("\n")) != 1 {
		t.Errorf("Marshal output is not one compact line: %q", data)
	}
	// Optional host fields are omitted when empty.
	r.Host = report.Host{OS: "linux"}
	_, data = payload(t, cat, r)
	if !bytes.Contains(data, []byte(`"host":{"os":"linux","live":false}`)) {
		t.Errorf("empty host fields are not omitted: %s", data)
	}
	// Known values pass through.
	r.Host = report.Host{OS: "linux", Arch: "arm64", Distro: "ubuntu", DistroVersion: "24.04", Kernel: "6.8.0-1", Live: true}
	p, _ = payload(t, cat, r)
	if p.Host != (report.PayloadHost{OS: "linux", Arch: "arm64", Distro: "ubuntu", DistroVersion: "24.04", Kernel: "6.8.0-1", Live: true}) {
		t.Errorf("known host values changed: %+v", p.Host)
	}
	// Nothing scored.
	_, data = payload(t, cat, newReport(t))
	if !bytes.Contains(data, []byte(`"grade":"N/A"`)) || !bytes.Contains(data, []byte(`"results":[]`)) {
		t.Errorf("empty report payload: %s", data)
	}
}

func TestPayloadRejectsUnknownCheckAndInvalidResults(t *testing.T) {
	cat := syntheticCatalog(t)
	for name, res := range map[string]report.Result{
		"unknown check":    result("test.nope", catalog.SeverityHigh, report.StatusPass, "", nil),
		"unknown status":   result("test.alpha", catalog.SeverityHigh, "maybe", "", nil),
		"unknown severity": result("test.alpha", "urgent", report.StatusPass, "", nil),
		"skip sans reason": result("test.alpha", catalog.SeverityHigh, report.StatusSkip, "", nil),
		"bad reason":       result("test.alpha", catalog.SeverityHigh, report.StatusError, "because I said so", nil),
	} {
		if p, err := newReport(t, res).Payload(cat, report.PayloadOptions{ObjectKey: testKey}); err == nil {
			t.Errorf("%s: Payload succeeded: %+v", name, p)
		}
	}
	r := newReport(t)
	r.AuditID = "not-a-uuid"
	if _, err := r.Payload(cat, report.PayloadOptions{}); err == nil {
		t.Error("Payload with a bad audit id succeeded")
	}
	dup := result("test.alpha", catalog.SeverityHigh, report.StatusPass, "", nil)
	if _, err := newReport(t, dup, dup).Payload(cat, report.PayloadOptions{}); err == nil {
		t.Error("Payload with a duplicate result succeeded")
	}
}

// validPayload returns a freshly built payload with facts of every type.
func validPayload(t *testing.T, cat *catalog.Catalog) *report.Payload {
	t.Helper()
	r := newReport(t,
		result("test.alpha", catalog.SeverityHigh, report.StatusFail, "", report.Facts{
			"enabled": true, "count": 5, "mode": "yes", "sshd": "9.2p1", "port": 22, "container": "web",
		}),
		result("test.lists", catalog.SeverityMedium, report.StatusPass, "", report.Facts{
			"ports": []int64{22}, "counts": []int64{-1}, "protos": []string{"tcp", "x"}, "versions": []string{"1"}, "containers": []string{"db"},
		}),
		result("test.crit", catalog.SeverityCritical, report.StatusSkip, report.ReasonNotLive, nil),
	)
	p, _ := payload(t, cat, r)
	return p
}

func TestValidate(t *testing.T) {
	cat := syntheticCatalog(t)
	if err := validPayload(t, cat).Validate(cat); err != nil {
		t.Fatalf("valid payload: %v", err)
	}
	hex32 := strings.Repeat("ab", 16)
	tests := map[string]func(p *report.Payload){
		"schema version 0":        func(p *report.Payload) { p.SchemaVersion = 0 },
		"schema version 2":        func(p *report.Payload) { p.SchemaVersion = report.SchemaVersion + 1 },
		"audit id empty":          func(p *report.Payload) { p.AuditID = "" },
		"audit id v4":             func(p *report.Payload) { p.AuditID = "0195a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b" },
		"audit id upper":          func(p *report.Payload) { p.AuditID = strings.ToUpper(p.AuditID) },
		"audit id bad variant":    func(p *report.Payload) { p.AuditID = p.AuditID[:19] + "c" + p.AuditID[20:] },
		"audit id braces":         func(p *report.Payload) { p.AuditID = "{" + p.AuditID + "}" },
		"started_at empty":        func(p *report.Payload) { p.StartedAt = "" },
		"started_at offset":       func(p *report.Payload) { p.StartedAt = "2025-03-04T05:06:07+02:00" },
		"started_at fraction":     func(p *report.Payload) { p.StartedAt = "2025-03-04T05:06:07.5Z" },
		"started_at month 13":     func(p *report.Payload) { p.StartedAt = "2025-13-04T05:06:07Z" },
		"started_at date only":    func(p *report.Payload) { p.StartedAt = "2025-03-04" },
		"negative duration":       func(p *report.Payload) { p.DurationMS = -1 },
		"negative dropped":        func(p *report.Payload) { p.DroppedFacts = -1 },
		"agent version space":     func(p *report.Payload) { p.AgentVersion = "1.2.3 beta" },
		"agent version 65":        func(p *report.Payload) { p.AgentVersion = strings.Repeat("1", 65) },
		"agent version empty":     func(p *report.Payload) { p.AgentVersion = "" },
		"host os unknown":         func(p *report.Payload) { p.Host.OS = "plan9" },
		"host os empty":           func(p *report.Payload) { p.Host.OS = "" },
		"host arch unknown":       func(p *report.Payload) { p.Host.Arch = "riscv64" },
		"host distro unknown":     func(p *report.Payload) { p.Host.Distro = "web-01.example.com" },
		"host distro version":     func(p *report.Payload) { p.Host.DistroVersion = "12 (bookworm)" },
		"host kernel":             func(p *report.Payload) { p.Host.Kernel = "Linux web-01 6.1" },
		"unknown grade":           func(p *report.Payload) { p.Grade = "E" },
		"empty grade":             func(p *report.Payload) { p.Grade = "" },
		"score negative":          func(p *report.Payload) { p.Score = -1 },
		"score above 100":         func(p *report.Payload) { p.Score = 101 },
		"unknown check id":        func(p *report.Payload) { p.Results[0].ID = "test.nope" },
		"duplicate id":            func(p *report.Payload) { p.Results[1].ID = p.Results[0].ID },
		"unknown status":          func(p *report.Payload) { p.Results[0].Status = "maybe" },
		"empty status":            func(p *report.Payload) { p.Results[0].Status = "" },
		"unknown severity":        func(p *report.Payload) { p.Results[0].Severity = "urgent" },
		"unknown reason":          func(p *report.Payload) { p.Results[2].Reason = "my password is hunter2" },
		"reason on pass":          func(p *report.Payload) { p.Results[1].Reason = report.ReasonNotFound },
		"reason on fail":          func(p *report.Payload) { p.Results[0].Reason = report.ReasonTimeout },
		"missing reason on skip":  func(p *report.Payload) { p.Results[2].Reason = "" },
		"missing reason on error": func(p *report.Payload) { p.Results[2].Status, p.Results[2].Reason = report.StatusError, "" },
		"undeclared fact":         func(p *report.Payload) { p.Results[0].Facts["hostname"] = "web-01" },
		"fact of another check":   func(p *report.Payload) { p.Results[1].Facts["enabled"] = true },
		"int out of range":        func(p *report.Payload) { p.Results[0].Facts["count"] = int64(101) },
		"int as string":           func(p *report.Payload) { p.Results[0].Facts["count"] = "5" },
		"int as float":            func(p *report.Payload) { p.Results[0].Facts["count"] = 5.5 },
		"bool as string":          func(p *report.Payload) { p.Results[0].Facts["enabled"] = "true" },
		"port out of range":       func(p *report.Payload) { p.Results[0].Facts["port"] = int64(65536) },
		"non-hex object":          func(p *report.Payload) { p.Results[0].Facts["container"] = "web" },
		"short object":            func(p *report.Payload) { p.Results[0].Facts["container"] = hex32[:30] },
		"object list with name":   func(p *report.Payload) { p.Results[1].Facts["containers"] = []string{hex32, "db"} },
		"undeclared enum value":   func(p *report.Payload) { p.Results[0].Facts["mode"] = "without-password" },
		"undeclared enum in list": func(p *report.Payload) { p.Results[1].Facts["protos"] = []string{"tcp", "quic"} },
		"version with space":      func(p *report.Payload) { p.Results[0].Facts["sshd"] = "9.2 p1" },
		"version too long":        func(p *report.Payload) { p.Results[0].Facts["sshd"] = strings.Repeat("9", 65) },
		"list too long":           func(p *report.Payload) { p.Results[1].Facts["ports"] = []int64{1, 2, 3, 4, 5, 6} },
		"scalar for list":         func(p *report.Payload) { p.Results[1].Facts["ports"] = int64(22) },
		"list for scalar":         func(p *report.Payload) { p.Results[0].Facts["port"] = []int64{22} },
		"nested object":           func(p *report.Payload) { p.Results[0].Facts["count"] = map[string]any{"n": 1} },
		"too many results": func(p *report.Payload) {
			for range report.MaxResults {
				p.Results = append(p.Results, report.PayloadResult{ID: "more.info", Status: "pass", Severity: "info"})
			}
		},
	}
	for name, mutate := range tests {
		p := validPayload(t, cat)
		mutate(p)
		if err := p.Validate(cat); err == nil {
			t.Errorf("%s: Validate accepted the payload", name)
		}
	}
	// Boundaries that are valid.
	for name, mutate := range map[string]func(p *report.Payload){
		"agent version 64": func(p *report.Payload) { p.AgentVersion = strings.Repeat("1", 64) },
		"score 0":          func(p *report.Payload) { p.Score = 0 },
		"score 100":        func(p *report.Payload) { p.Score = 100 },
		"grade N/A":        func(p *report.Payload) { p.Grade = score.GradeNone },
		"os other":         func(p *report.Payload) { p.Host.OS = catalog.OtherValue },
		"distro other":     func(p *report.Payload) { p.Host.Distro = catalog.OtherValue },
		"no results":       func(p *report.Payload) { p.Results = nil },
		"enum other":       func(p *report.Payload) { p.Results[0].Facts["mode"] = catalog.OtherValue },
		"suppressed skip":  func(p *report.Payload) { p.Results[2].Reason = report.ReasonSuppressed },
	} {
		p := validPayload(t, cat)
		mutate(p)
		if err := p.Validate(cat); err != nil {
			t.Errorf("%s: Validate rejected a valid payload: %v", name, err)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	cat := syntheticCatalog(t)
	p := validPayload(t, cat)
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := report.DecodePayload(bytes.NewReader(data), cat)
	if err != nil {
		t.Fatalf("DecodePayload(Marshal(p)): %v", err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip changed the payload:\n got %+v\nwant %+v", got, p)
	}
	// Normal forms after decoding: int64 and typed slices, not json.Number and []any.
	if _, ok := got.Results[0].Facts["count"].(int64); !ok {
		t.Errorf("count decoded as %T", got.Results[0].Facts["count"])
	}
	if _, ok := got.Results[1].Facts["protos"].([]string); !ok {
		t.Errorf("protos decoded as %T", got.Results[1].Facts["protos"])
	}
	again, err := got.Marshal()
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("re-marshalled payload differs:\n%s\n%s", again, data)
	}
	// Trailing whitespace is fine.
	if _, err := report.DecodePayload(bytes.NewReader(append(bytes.Clone(data), " \n\t"...)), cat); err != nil {
		t.Errorf("trailing whitespace: %v", err)
	}

	s := string(data)
	replace := func(old, new string) string {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("test bug: %q not in %s", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	reReplace := func(pattern, repl string) string {
		t.Helper()
		re := regexp.MustCompile(pattern)
		if !re.MatchString(s) {
			t.Fatalf("test bug: %s does not match %s", pattern, s)
		}
		return re.ReplaceAllString(s, repl)
	}
	bad := map[string]string{
		"unknown top-level field":  replace(`"schema_version":1,`, `"schema_version":1,"hostname":"web-01",`),
		"unknown host field":       replace(`"host":{`, `"host":{"hostname":"web-01",`),
		"unknown result field":     replace(`{"id":"test.alpha",`, `{"id":"test.alpha","message":"hi",`),
		"trailing object":          s + `{}`,
		"trailing garbage":         s + `garbage`,
		"trailing brace":           s + `}`,
		"two payloads":             s + s,
		"float fact":               replace(`"count":5`, `"count":5.0`),
		"exponent fact":            replace(`"count":5`, `"count":5e0`),
		"float score":              reReplace(`"score":\d+`, `"score":28.5`),
		"integral float score":     reReplace(`"score":\d+`, `"score":28.0`),
		"string score":             replace(`"duration_ms":420`, `"duration_ms":"420"`),
		"float duration":           replace(`"duration_ms":420`, `"duration_ms":420.5`),
		"float dropped":            reReplace(`"dropped_facts":\d+`, `"dropped_facts":0.5`),
		"null body":                `null`,
		"empty body":               ``,
		"array body":               `[]`,
		"undeclared fact on wire":  replace(`"enabled":true`, `"enabled":true,"hostname":"web-01"`),
		"undeclared enum on wire":  replace(`"mode":"yes"`, `"mode":"maybe"`),
		"object name on wire":      reReplace(`"container":"[0-9a-f]{32}"`, `"container":"web-01"`),
		"int out of range on wire": replace(`"count":5`, `"count":500`),
		"string int on wire":       replace(`"count":5`, `"count":"5"`),
		"huge int on wire":         replace(`"count":5`, `"count":99999999999999999999`),
		"nested list on wire":      replace(`"ports":[22]`, `"ports":[[22]]`),
	}
	for name, body := range bad {
		if _, err := report.DecodePayload(strings.NewReader(body), cat); err == nil {
			t.Errorf("%s: DecodePayload accepted %s", name, body)
		}
	}
}

func TestNewAuditID(t *testing.T) {
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	seen := map[string]bool{}
	for i := range 200 {
		at := base.Add(time.Duration(i) * 7 * time.Millisecond)
		id, err := report.NewAuditID(at)
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV7.MatchString(id) {
			t.Fatalf("NewAuditID = %q, not a UUIDv7", id)
		}
		// The first 48 bits are the Unix time in milliseconds.
		ms, err := hex.DecodeString(strings.ReplaceAll(id[:13], "-", ""))
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		for _, b := range ms {
			got = got<<8 | int64(b)
		}
		if got != at.UnixMilli() {
			t.Errorf("timestamp of %s = %d, want %d", id, got, at.UnixMilli())
		}
		if seen[id] {
			t.Errorf("duplicate id %s", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Error("ids generated at increasing times do not sort in time order")
	}
	// Same millisecond: different random parts.
	a, _ := report.NewAuditID(base)
	b, _ := report.NewAuditID(base)
	if a == b || a[:13] != b[:13] {
		t.Errorf("same-millisecond ids %s and %s", a, b)
	}
}

func TestSummarize(t *testing.T) {
	results := []report.Result{
		result("a.a", catalog.SeverityCritical, report.StatusPass, "", nil),
		result("a.b", catalog.SeverityHigh, report.StatusFail, "", nil),
		result("a.c", catalog.SeverityHigh, report.StatusFail, "", nil),
		result("a.d", catalog.SeverityLow, report.StatusFail, "", nil),
		result("a.e", catalog.SeverityMedium, report.StatusSkip, report.ReasonNotFound, nil),
		result("a.f", catalog.SeverityCritical, report.StatusSkip, report.ReasonSuppressed, nil),
		result("a.g", catalog.SeverityCritical, report.StatusError, report.ReasonTimeout, nil),
		result("a.h", catalog.SeverityMedium, report.StatusPass, "", nil),
	}
	s := report.Summarize(results)
	wantCounts := report.Counts{Total: 8, Pass: 2, Fail: 3, Skip: 1, Error: 1, Suppressed: 1}
	if s.Counts != wantCounts {
		t.Errorf("Counts = %+v, want %+v", s.Counts, wantCounts)
	}
	wantFailed := map[catalog.Severity]int{catalog.SeverityHigh: 2, catalog.SeverityLow: 1}
	if !reflect.DeepEqual(s.FailedBySeverity, wantFailed) {
		t.Errorf("FailedBySeverity = %v", s.FailedBySeverity)
	}
	// Scored: critical 10 + medium 2 passed, high 5+5 and low 1 failed: 12/23 = 52.
	if s.Score != 52 || s.Grade != score.GradeF || s.Earned != 12 || s.Possible != 23 || !s.Scored {
		t.Errorf("score = %+v", s.Summary)
	}
	r := report.Report{Results: results}
	if sev, ok := r.HighestFailure(); !ok || sev != catalog.SeverityHigh {
		t.Errorf("HighestFailure = %s, %v", sev, ok)
	}
	r = report.Report{Results: results[4:7]}
	if _, ok := r.HighestFailure(); ok {
		t.Error("HighestFailure found a failure among skips and errors")
	}
	empty := report.Summarize(nil)
	if empty.Grade != score.GradeNone || empty.Counts.Total != 0 || empty.FailedBySeverity == nil {
		t.Errorf("Summarize(nil) = %+v", empty)
	}
	// The JSON form of a summary flattens the score fields.
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"score":52`, `"grade":"F"`, `"counts":{"total":8`, `"failed_by_severity":{"high":2,"low":1}`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("summary JSON %s lacks %s", data, want)
		}
	}
}

func TestStatusAndReason(t *testing.T) {
	for _, s := range []report.Status{report.StatusPass, report.StatusFail, report.StatusSkip, report.StatusError} {
		if !s.Valid() {
			t.Errorf("%s is not valid", s)
		}
	}
	for _, s := range []report.Status{"", "PASS", "ok"} {
		if s.Valid() {
			t.Errorf("%q is valid", s)
		}
	}
	reasons := report.Reasons()
	if len(reasons) != 18 {
		t.Errorf("%d reasons", len(reasons))
	}
	code := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	seen := map[report.Reason]bool{}
	for _, r := range reasons {
		if !r.Valid() || !code.MatchString(string(r)) || seen[r] {
			t.Errorf("reason %q", r)
		}
		seen[r] = true
	}
	if report.Reason("").Valid() || report.Reason("Timeout").Valid() {
		t.Error("invalid reasons accepted")
	}
}
