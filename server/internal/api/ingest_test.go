package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
	"github.com/securecodehq/server-audit/server/internal/api"
	"github.com/securecodehq/server-audit/server/internal/ingest"
	"github.com/securecodehq/server-audit/server/internal/payloadgen"
)

func TestIngestHappyPathStoresRowsAndJob(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	p, body := h.payload(t, payloadgen.Options{})
	res := h.post(t, tok, body, map[string]string{"Idempotency-Key": p.AuditID})
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var got api.AcceptedResponse
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	wantURL := h.srv.URL + "/v1/audits/" + p.AuditID + "/report"
	if got.AuditID != p.AuditID || got.ReportURL != wantURL || got.Status != "accepted" {
		t.Fatalf("answer %+v, want audit %s, report_url %s", got, p.AuditID, wantURL)
	}
	if res.header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
	if n := h.audits(t, p.AuditID); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	if n := h.count(t, "SELECT count(*) FROM results WHERE audit_id = $1", p.AuditID); n != len(p.Results) {
		t.Fatalf("%d result rows, want %d", n, len(p.Results))
	}
	if n := h.jobs(t, p.AuditID); n != 1 {
		t.Fatalf("%d generate_report jobs, want 1", n)
	}
	var args string
	if err := h.pool.QueryRow(context.Background(), "SELECT args::text FROM river_job WHERE kind = 'generate_report'").Scan(&args); err != nil {
		t.Fatal(err)
	}
	if args != `{"audit_id": "`+p.AuditID+`"}` {
		t.Errorf("job args %s: want the audit id only", args)
	}
	// The stored row carries the payload's values and the server facts.
	var score int
	var grade, agent, os, kernel, ip string
	var schema int
	err := h.pool.QueryRow(context.Background(), `SELECT a.score, a.grade, a.agent_version, a.schema_version,
		s.os, s.kernel, host(s.ip) FROM audits a JOIN servers s ON s.id = a.server_id WHERE a.id = $1`, p.AuditID).
		Scan(&score, &grade, &agent, &schema, &os, &kernel, &ip)
	if err != nil {
		t.Fatal(err)
	}
	if score != p.Score || grade != p.Grade || agent != p.AgentVersion || schema != report.SchemaVersion ||
		os != "linux" || kernel != p.Host.Kernel || ip != "127.0.0.1" {
		t.Errorf("stored %d %s %s %d %s %s %s", score, grade, agent, schema, os, kernel, ip)
	}
	// Facts round-trip as JSONB.
	var facts string
	id := p.Results[0].ID
	if err := h.pool.QueryRow(context.Background(), "SELECT facts::text FROM results WHERE audit_id = $1 AND check_id = $2", p.AuditID, id).Scan(&facts); err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal([]byte(facts), &decoded); err != nil || len(decoded) != len(p.Results[0].Facts) {
		t.Errorf("facts of %s stored as %s", id, facts)
	}
}

func TestIngestWorkerProducesReport(t *testing.T) {
	h := newHarness(t, harnessOptions{workers: 2})
	tok := h.token(t, "ops@example.com", "")
	p, body := h.payload(t, payloadgen.Options{})
	res := h.post(t, tok, body, nil)
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	path := "/v1/audits/" + p.AuditID + "/report"
	var rep response
	deadline := time.Now().Add(20 * time.Second)
	for {
		rep = h.do(t, http.MethodGet, path, tok, nil, nil)
		if rep.status != http.StatusAccepted || time.Now().After(deadline) {
			break
		}
		if rep.header.Get("Retry-After") == "" {
			t.Fatal("pending report answer without Retry-After")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rep.status != http.StatusOK {
		t.Fatalf("report: status %d: %s", rep.status, rep.body)
	}
	var body2 api.ReportResponse
	if err := json.Unmarshal(rep.body, &body2); err != nil {
		t.Fatal(err)
	}
	if body2.Status != "ready" || body2.GeneratedAt == nil || len(body2.Summary) == 0 {
		t.Fatalf("report %+v", body2)
	}
	var summary struct {
		AuditID string `json:"audit_id"`
		Score   int    `json:"score"`
	}
	if err := json.Unmarshal(body2.Summary, &summary); err != nil || summary.AuditID != p.AuditID || summary.Score != p.Score {
		t.Fatalf("summary %s (%v)", body2.Summary, err)
	}
	md := h.do(t, http.MethodGet, path, tok, nil, map[string]string{"Accept": "text/markdown"})
	if md.status != http.StatusOK || !strings.HasPrefix(md.header.Get("Content-Type"), "text/markdown") || !bytes.Contains(md.body, []byte(p.AuditID)) {
		t.Errorf("markdown: %d %s", md.status, md.header.Get("Content-Type"))
	}
	html := h.do(t, http.MethodGet, path, tok, nil, map[string]string{"Accept": "text/html;q=0.9, text/markdown;q=0.5"})
	if html.status != http.StatusOK || !strings.HasPrefix(html.header.Get("Content-Type"), "text/html") || html.header.Get("Content-Security-Policy") == "" {
		t.Errorf("html: %d %s", html.status, html.header.Get("Content-Type"))
	}
	h.do(t, http.MethodGet, path, tok, nil, map[string]string{"Accept": "application/pdf"}).expectProblem(t, http.StatusNotAcceptable, api.CodeNotAcceptable)
	var state string
	for range 200 {
		if err := h.pool.QueryRow(context.Background(), "SELECT state FROM river_job WHERE args->>'audit_id' = $1", p.AuditID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "completed" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if state != "completed" {
		t.Errorf("job state %q, want completed", state)
	}
}

func TestReportOfAnotherAccountIsNotFound(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	owner := h.token(t, "owner@example.com", "127.0.0.1")
	other := h.token(t, "other@example.com", "127.0.0.1")
	p, body := h.payload(t, payloadgen.Options{})
	if res := h.post(t, owner, body, nil); res.status != http.StatusAccepted {
		t.Fatalf("status %d", res.status)
	}
	path := "/v1/audits/" + p.AuditID + "/report"
	if res := h.do(t, http.MethodGet, path, owner, nil, nil); res.status != http.StatusAccepted {
		t.Fatalf("owner, no worker running: status %d, want 202 pending", res.status)
	}
	h.do(t, http.MethodGet, path, other, nil, nil).expectProblem(t, http.StatusNotFound, api.CodeNotFound)
	h.do(t, http.MethodGet, "/v1/audits/01890a5d-ac96-774b-bcce-b302099a8057/report", owner, nil, nil).expectProblem(t, http.StatusNotFound, api.CodeNotFound)
	h.do(t, http.MethodGet, "/v1/audits/not-a-uuid/report", owner, nil, nil).expectProblem(t, http.StatusNotFound, api.CodeNotFound)
	h.do(t, http.MethodGet, path, "", nil, nil).expectProblem(t, http.StatusUnauthorized, api.CodeUnauthorized)
}

func TestIdempotentReplayReturnsStoredAnswer(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	p, body := h.payload(t, payloadgen.Options{})
	first := h.post(t, tok, body, map[string]string{"Idempotency-Key": p.AuditID})
	second := h.post(t, tok, body, map[string]string{"Idempotency-Key": p.AuditID})
	if first.status != http.StatusAccepted || second.status != first.status || !bytes.Equal(first.body, second.body) {
		t.Fatalf("first %d %s, replay %d %s", first.status, first.body, second.status, second.body)
	}
	if second.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Error("Idempotent-Replayed header wrong")
	}
	// The same bytes sent uncompressed are the same body.
	plain, _, _ := payloadgen.Encode(p)
	third := h.post(t, tok, plain, map[string]string{"Content-Encoding": ""})
	if third.status != http.StatusAccepted || !bytes.Equal(third.body, first.body) {
		t.Fatalf("uncompressed replay %d %s", third.status, third.body)
	}
	if n := h.audits(t, p.AuditID); n != 1 {
		t.Fatalf("%d audits", n)
	}
	if n := h.jobs(t, p.AuditID); n != 1 {
		t.Fatalf("%d jobs", n)
	}
	if n := h.count(t, "SELECT count(*) FROM results"); n != len(p.Results) {
		t.Fatalf("%d results", n)
	}
}

func TestIdempotencyConflict(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	p, body := h.payload(t, payloadgen.Options{})
	if res := h.post(t, tok, body, nil); res.status != http.StatusAccepted {
		t.Fatalf("status %d", res.status)
	}
	// Same audit id, different body.
	q, err := payloadgen.Payload(h.cat, p.AuditID, payloadgen.Options{Fail: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	_, body2, _ := payloadgen.Encode(q)
	h.post(t, tok, body2, map[string]string{"Idempotency-Key": p.AuditID}).expectProblem(t, http.StatusUnprocessableEntity, api.CodeIdempotencyConflict)
	// Same id and body from another account is a conflict too.
	other := h.token(t, "other@example.com", "127.0.0.1")
	h.post(t, other, body, nil).expectProblem(t, http.StatusUnprocessableEntity, api.CodeIdempotencyConflict)
	if n := h.audits(t, p.AuditID); n != 1 {
		t.Fatalf("%d audits", n)
	}
	var fails int
	h.pool.QueryRow(context.Background(), "SELECT count(*) FROM results WHERE status = 'fail'").Scan(&fails)
	if fails == len(q.Results) {
		t.Fatal("the conflicting body overwrote the stored results")
	}
}

func TestIdempotencyKeyMustMatchAuditID(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	p, body := h.payload(t, payloadgen.Options{})
	other, _ := report.NewAuditID(time.Now())
	h.post(t, tok, body, map[string]string{"Idempotency-Key": other}).expectProblem(t, http.StatusBadRequest, api.CodeInvalidIdempotencyKey)
	h.post(t, tok, body, map[string]string{"Idempotency-Key": "not-a-uuid"}).expectProblem(t, http.StatusBadRequest, api.CodeInvalidIdempotencyKey)
	if n := h.audits(t, p.AuditID); n != 0 {
		t.Fatal("audit stored despite a mismatched key")
	}
	// The quoted structured-field form is accepted.
	if res := h.post(t, tok, body, map[string]string{"Idempotency-Key": `"` + p.AuditID + `"`}); res.status != http.StatusAccepted {
		t.Fatalf("quoted key: %d %s", res.status, res.body)
	}
}

func TestConcurrentDuplicatesStoreOneAudit(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "")
	p, body := h.payload(t, payloadgen.Options{})
	const n = 12
	results := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = h.post(t, tok, body, map[string]string{"Idempotency-Key": p.AuditID})
		}()
	}
	close(start)
	wg.Wait()
	replayed := 0
	for i, r := range results {
		if r.status != http.StatusAccepted || !bytes.Equal(r.body, results[0].body) {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
		if r.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Errorf("%d replays, want %d", replayed, n-1)
	}
	if a, j := h.audits(t, p.AuditID), h.jobs(t, p.AuditID); a != 1 || j != 1 {
		t.Fatalf("%d audits, %d jobs", a, j)
	}
}

func TestWrongIPIsForbidden(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "198.51.100.7")
	p, body := h.payload(t, payloadgen.Options{})
	h.post(t, tok, body, nil).expectProblem(t, http.StatusForbidden, api.CodeIPMismatch)
	if h.audits(t, p.AuditID) != 0 {
		t.Fatal("audit stored from the wrong address")
	}
}

func TestUnboundTokenBindsToFirstIngestAddress(t *testing.T) {
	h := newHarness(t, harnessOptions{trusted: []string{"127.0.0.1/32"}})
	tok := h.token(t, "ops@example.com", "")
	// Concurrent first uploads from two addresses: exactly one binds.
	addrs := []string{"203.0.113.10", "203.0.113.20"}
	res := make([]response, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, body := h.payload(t, payloadgen.Options{})
			res[i] = h.post(t, tok, body, map[string]string{"X-Forwarded-For": a})
		}()
	}
	wg.Wait()
	ok, forbidden := 0, 0
	for _, r := range res {
		switch r.status {
		case http.StatusAccepted:
			ok++
		case http.StatusForbidden:
			r.expectProblem(t, http.StatusForbidden, api.CodeIPMismatch)
			forbidden++
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	if ok != 1 || forbidden != 1 {
		t.Fatalf("%d accepted, %d forbidden; want one each", ok, forbidden)
	}
	var bound string
	if err := h.pool.QueryRow(context.Background(), "SELECT host(bound_ip) FROM tokens").Scan(&bound); err != nil {
		t.Fatal(err)
	}
	winner := addrs[0]
	if res[1].status == http.StatusAccepted {
		winner = addrs[1]
	}
	if bound != winner {
		t.Fatalf("bound to %s, the accepted upload came from %s", bound, winner)
	}
	_, body := h.payload(t, payloadgen.Options{})
	if r := h.post(t, tok, body, map[string]string{"X-Forwarded-For": winner}); r.status != http.StatusAccepted {
		t.Fatalf("second upload from the bound address: %d", r.status)
	}
}

func TestForgedForwardedForFromUntrustedPeerIsIgnored(t *testing.T) {
	h := newHarness(t, harnessOptions{}) // no trusted proxies
	bound := h.token(t, "a@example.com", "198.51.100.7")
	_, body := h.payload(t, payloadgen.Options{})
	h.post(t, bound, body, map[string]string{"X-Forwarded-For": "198.51.100.7"}).expectProblem(t, http.StatusForbidden, api.CodeIPMismatch)
	// A token bound to the real peer is not fooled into another address either.
	local := h.token(t, "b@example.com", "127.0.0.1")
	if r := h.post(t, local, body, map[string]string{"X-Forwarded-For": "203.0.113.99"}); r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var ip string
	h.pool.QueryRow(context.Background(), "SELECT host(ip) FROM servers").Scan(&ip)
	if ip != "127.0.0.1" {
		t.Fatalf("server stored with address %s, want the TCP peer", ip)
	}
}

func TestForwardedForFromTrustedProxyIsHonoured(t *testing.T) {
	h := newHarness(t, harnessOptions{trusted: []string{"127.0.0.0/8", "10.0.0.0/8"}})
	tok := h.token(t, "ops@example.com", "198.51.100.7")
	for _, xff := range []string{
		"198.51.100.7",
		"198.51.100.7, 10.1.2.3",           // a trusted hop is skipped
		"203.0.113.66, 198.51.100.7",       // the client's own left-most claim is ignored
		"garbage, 198.51.100.7, 10.0.0.1 ", // unparsable hops left of the client do not matter
	} {
		_, body := h.payload(t, payloadgen.Options{})
		if r := h.post(t, tok, body, map[string]string{"X-Forwarded-For": xff}); r.status != http.StatusAccepted {
			t.Fatalf("X-Forwarded-For %q: status %d: %s", xff, r.status, r.body)
		}
	}
	_, body := h.payload(t, payloadgen.Options{})
	h.post(t, tok, body, map[string]string{"X-Forwarded-For": "198.51.100.7, 203.0.113.66"}).expectProblem(t, http.StatusForbidden, api.CodeIPMismatch)
}

func TestBadTokensAreUnauthorized(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	_, body := h.payload(t, payloadgen.Options{})
	unknown := "sat_" + strings.Repeat("A", 43)
	for name, hdr := range map[string]string{
		"missing":   "",
		"unknown":   "Bearer " + unknown,
		"malformed": "Bearer " + tok[:20],
		"scheme":    "Basic " + tok,
	} {
		r := h.post(t, "", body, map[string]string{"Authorization": hdr})
		p := r.expectProblem(t, http.StatusUnauthorized, api.CodeUnauthorized)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", name)
		}
		_ = p
	}
	var id int64
	h.pool.QueryRow(context.Background(), "SELECT id FROM tokens").Scan(&id)
	if err := h.st.RevokeToken(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	h.post(t, tok, body, nil).expectProblem(t, http.StatusUnauthorized, api.CodeUnauthorized)
	if n := h.count(t, "SELECT count(*) FROM audits"); n != 0 {
		t.Fatalf("%d audits stored", n)
	}
}

func TestBodyLimits(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	big := make([]byte, ingest.DefaultMaxBody+1)
	rand.Read(big)
	// Declared length over the limit.
	h.post(t, tok, big, nil).expectProblem(t, http.StatusRequestEntityTooLarge, api.CodePayloadTooLarge)
	// Chunked, no length.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/audits", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked oversized body: %d", resp.StatusCode)
	}
	// A gzip bomb: 64 MiB of zeros in ~64 KiB.
	bomb := payloadgen.Gzip(make([]byte, 64<<20))
	if len(bomb) > ingest.DefaultMaxBody {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}
	r := h.post(t, tok, bomb, nil)
	p := r.expectProblem(t, http.StatusRequestEntityTooLarge, api.CodePayloadTooLarge)
	if !strings.Contains(p.Detail, "decompresses") {
		t.Errorf("detail %q", p.Detail)
	}
}

func TestInvalidPayloads(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	cat := h.cat
	mutate := func(f func(p *report.Payload)) []byte {
		p, err := payloadgen.Payload(cat, "", payloadgen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f(p)
		plain, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return payloadgen.Gzip(plain)
	}
	factOfType := func(p *report.Payload, typ catalog.FactType) (int, string) {
		for i, r := range p.Results {
			e, _ := cat.Lookup(r.ID)
			for k, s := range e.Facts {
				if s.Type == typ && !s.List {
					return i, k
				}
			}
		}
		t.Fatalf("no %s fact in the payload", typ)
		return 0, ""
	}
	for _, tc := range []struct {
		name string
		body []byte
		code string
	}{
		{"malformed JSON", payloadgen.Gzip([]byte(`{"schema_version": 1, "audit_id": `)), api.CodeInvalidPayload},
		{"not gzip", []byte("plainly not gzip"), api.CodeInvalidPayload},
		{"trailing data", payloadgen.Gzip(append(mustPlain(t, cat), []byte(`{}`)...)), api.CodeInvalidPayload},
		{"unknown field", payloadgen.Gzip(bytes.Replace(mustPlain(t, cat), []byte(`{"schema_version"`), []byte(`{"hostname":"web-1","schema_version"`), 1)), api.CodeInvalidPayload},
		{"unknown schema version", mutate(func(p *report.Payload) { p.SchemaVersion = 99 }), api.CodeUnsupportedSchema},
		{"disallowed string in a version fact", mutate(func(p *report.Payload) {
			i, k := factOfType(p, catalog.FactVersion)
			p.Results[i].Facts[k] = "password=hunter2 /etc/shadow"
		}), api.CodeInvalidPayload},
		{"undeclared enum value", mutate(func(p *report.Payload) {
			i, k := factOfType(p, catalog.FactEnum)
			p.Results[i].Facts[k] = "web-1.example.com"
		}), api.CodeInvalidPayload},
		{"undeclared fact key", mutate(func(p *report.Payload) {
			p.Results[0].Facts = map[string]any{"hostname": "web-1"}
		}), api.CodeInvalidPayload},
		{"unknown check", mutate(func(p *report.Payload) { p.Results[0].ID = "system.no-such-check" }), api.CodeInvalidPayload},
		{"score does not match", mutate(func(p *report.Payload) { p.Score = (p.Score + 50) % 100 }), api.CodeInvalidPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.post(t, tok, tc.body, nil)
			r.expectProblem(t, http.StatusUnprocessableEntity, tc.code)
		})
	}
	if n := h.count(t, "SELECT count(*) FROM audits"); n != 0 {
		t.Fatalf("%d audits stored", n)
	}
	if strings.Contains(h.logs.String(), "hunter2") || strings.Contains(h.logs.String(), "web-1") {
		t.Error("payload content reached the logs")
	}
}

func mustPlain(t *testing.T, cat *catalog.Catalog) []byte {
	t.Helper()
	p, err := payloadgen.Payload(cat, "", payloadgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := payloadgen.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func TestMediaTypes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	_, body := h.payload(t, payloadgen.Options{})
	h.post(t, tok, body, map[string]string{"Content-Encoding": "br"}).expectProblem(t, http.StatusUnsupportedMediaType, api.CodeUnsupportedMediaType)
	h.post(t, tok, body, map[string]string{"Content-Encoding": "gzip, gzip"}).expectProblem(t, http.StatusUnsupportedMediaType, api.CodeUnsupportedMediaType)
	h.post(t, tok, body, map[string]string{"Content-Type": "text/plain"}).expectProblem(t, http.StatusUnsupportedMediaType, api.CodeUnsupportedMediaType)
	if r := h.post(t, tok, body, map[string]string{"Content-Type": "application/json; charset=utf-8"}); r.status != http.StatusAccepted {
		t.Fatalf("charset parameter: %d", r.status)
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("token", func(t *testing.T) {
		h := newHarness(t, harnessOptions{tokenRate: api.RateLimit{PerSecond: 0.01, Burst: 2}})
		tok := h.token(t, "ops@example.com", "127.0.0.1")
		for i := range 2 {
			_, body := h.payload(t, payloadgen.Options{})
			if r := h.post(t, tok, body, nil); r.status != http.StatusAccepted {
				t.Fatalf("request %d: %d", i, r.status)
			}
		}
		_, body := h.payload(t, payloadgen.Options{})
		r := h.post(t, tok, body, nil)
		r.expectProblem(t, http.StatusTooManyRequests, api.CodeRateLimited)
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 90 || secs > 101 {
			t.Fatalf("Retry-After %q, want about 100 s", r.header.Get("Retry-After"))
		}
		// Another token of the same account has its own bucket.
		tok2 := h.token(t, "ops@example.com", "127.0.0.1")
		if r := h.post(t, tok2, body, nil); r.status != http.StatusAccepted {
			t.Fatalf("second token: %d", r.status)
		}
	})
	t.Run("ip", func(t *testing.T) {
		h := newHarness(t, harnessOptions{ipRate: api.RateLimit{PerSecond: 0.5, Burst: 3}})
		for range 3 {
			h.do(t, http.MethodGet, "/v1/audits/x/report", "", nil, nil).expectProblem(t, http.StatusUnauthorized, api.CodeUnauthorized)
		}
		r := h.do(t, http.MethodGet, "/v1/audits/x/report", "", nil, nil)
		r.expectProblem(t, http.StatusTooManyRequests, api.CodeRateLimited)
		if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 || secs > 2 {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		// Health endpoints are not limited.
		if r := h.do(t, http.MethodGet, "/healthz", "", nil, nil); r.status != http.StatusOK {
			t.Fatalf("healthz: %d", r.status)
		}
	})
}

func TestPublicURLBuildsReportLinks(t *testing.T) {
	h := newHarness(t, harnessOptions{public: "https://audit.example.com/"})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	p, body := h.payload(t, payloadgen.Options{})
	r := h.post(t, tok, body, map[string]string{"Host": "evil.example"})
	var got api.AcceptedResponse
	json.Unmarshal(r.body, &got)
	if want := "https://audit.example.com/v1/audits/" + p.AuditID + "/report"; got.ReportURL != want {
		t.Fatalf("report_url %q, want %q", got.ReportURL, want)
	}
}

func TestLogsCarryRequestIDsButNoSecrets(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	p, body := h.payload(t, payloadgen.Options{})
	r := h.post(t, tok, body, map[string]string{"X-Request-ID": "trace-abc.123"})
	if r.status != http.StatusAccepted || r.header.Get("X-Request-ID") != "trace-abc.123" {
		t.Fatalf("status %d, request id %q", r.status, r.header.Get("X-Request-ID"))
	}
	h.post(t, "sat_"+strings.Repeat("B", 43), body, map[string]string{"X-Request-ID": "forged id with spaces"})
	logs := h.logs.String()
	if !strings.Contains(logs, `"request_id":"trace-abc.123"`) || !strings.Contains(logs, `"route":"/v1/audits"`) {
		t.Fatalf("access log lacks request id or route:\n%s", logs)
	}
	if strings.Contains(logs, "forged") {
		t.Error("an invalid X-Request-ID was logged")
	}
	for _, secret := range []string{tok, tok[4:20], strings.Repeat("B", 43), p.Host.Kernel, p.Results[0].ID, "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if r := h.do(t, http.MethodGet, "/healthz", "", nil, nil); r.status != http.StatusOK {
		t.Fatalf("healthz %d", r.status)
	}
	if r := h.do(t, http.MethodGet, "/readyz", "", nil, nil); r.status != http.StatusOK {
		t.Fatalf("readyz %d: %s", r.status, r.body)
	}
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	_, body := h.payload(t, payloadgen.Options{})
	h.post(t, tok, body, nil)
	for i := range 3 {
		h.do(t, http.MethodGet, fmt.Sprintf("/v1/audits/%d/report", i), tok, nil, nil)
		h.do(t, http.MethodGet, fmt.Sprintf("/random/path/%d", i), "", nil, nil).expectProblem(t, http.StatusNotFound, api.CodeNotFound)
	}
	h.do(t, http.MethodDelete, "/v1/audits", tok, nil, nil)
	r := h.do(t, http.MethodGet, "/metrics", "", nil, nil)
	m := string(r.body)
	for _, want := range []string{
		`server_audit_http_requests_total{class="2xx",method="POST",route="/v1/audits"} 1`,
		`server_audit_http_requests_total{class="4xx",method="GET",route="/v1/audits/:id/report"} 3`,
		`server_audit_http_requests_total{class="4xx",method="GET",route="unmatched"} 3`,
		`server_audit_ingest_audits_total{outcome="stored"} 1`,
		`server_audit_http_problems_total{code="not_found"}`,
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "/random/path") || strings.Contains(m, `route="/v1/audits/0`) {
		t.Error("metrics carry raw paths")
	}
}

func TestReadyzFailsWithPendingMigrations(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if _, err := h.pool.Exec(context.Background(), "DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)"); err != nil {
		t.Fatal(err)
	}
	r := h.do(t, http.MethodGet, "/readyz", "", nil, nil)
	p := r.expectProblem(t, http.StatusServiceUnavailable, api.CodeUnavailable)
	if !strings.Contains(p.Detail, "migrations") {
		t.Errorf("detail %q", p.Detail)
	}
	if _, err := h.pool.Exec(context.Background(), "DELETE FROM schema_migrations"); err != nil {
		t.Fatal(err)
	}
	h.do(t, http.MethodGet, "/readyz", "", nil, nil).expectProblem(t, http.StatusServiceUnavailable, api.CodeUnavailable)
}

func TestRequestDeadline(t *testing.T) {
	h := newHarness(t, harnessOptions{timeout: time.Nanosecond})
	tok := h.token(t, "ops@example.com", "127.0.0.1")
	_, body := h.payload(t, payloadgen.Options{})
	h.post(t, tok, body, nil).expectProblem(t, http.StatusServiceUnavailable, api.CodeTimeout)
	if r := h.do(t, http.MethodGet, "/healthz", "", nil, nil); r.status != http.StatusOK {
		t.Fatalf("healthz under a tiny deadline: %d", r.status)
	}
}

// TestRevocationIsImmediateDespiteTheTokenCache: uploads authenticate from a short-lived
// cache, but the ingest transaction re-checks the token.
func TestRevocationIsImmediateDespiteTheTokenCache(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, bound := range []string{"127.0.0.1", ""} {
		tok := h.token(t, "ops@example.com", bound)
		_, body := h.payload(t, payloadgen.Options{})
		if r := h.post(t, tok, body, nil); r.status != http.StatusAccepted { // now cached
			t.Fatalf("status %d", r.status)
		}
		p, err := h.st.LookupToken(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.st.RevokeToken(context.Background(), p.TokenID); err != nil {
			t.Fatal(err)
		}
		q, body2 := h.payload(t, payloadgen.Options{})
		h.post(t, tok, body2, nil).expectProblem(t, http.StatusUnauthorized, api.CodeUnauthorized)
		// A replay of the earlier upload is refused too.
		h.post(t, tok, body, nil).expectProblem(t, http.StatusUnauthorized, api.CodeUnauthorized)
		if h.audits(t, q.AuditID) != 0 || h.jobs(t, q.AuditID) != 0 {
			t.Fatal("a revoked token stored an audit")
		}
	}
	// The cached principal of an unbound token (bound by its first upload since) meets the
	// revocation in the binding step.
	tok := h.token(t, "late@example.com", "")
	_, body := h.payload(t, payloadgen.Options{})
	var id int64
	h.pool.QueryRow(context.Background(), "SELECT max(id) FROM tokens").Scan(&id)
	h.post(t, tok, body, nil) // cache the unbound principal... and bind it
	h.st.RevokeToken(context.Background(), id)
	h.post(t, tok, body, nil).expectProblem(t, http.StatusUnauthorized, api.CodeUnauthorized)
}
