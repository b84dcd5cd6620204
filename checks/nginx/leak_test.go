package nginx

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// plantedSecrets are strings the leak fixture hides in header values, server_name, comments,
// a proxy_set_header Authorization value, the auth_basic realm, password file path and
// content, listen and upstream addresses, the worker user, log paths, a private key and a
// certificate subject.
var plantedSecrets = []string{
	"sa-header-secret-LEAK", "sa-hsts-LEAK", "sa-csp-LEAK", "secret-vhost-sa-LEAK", "Hunter2-sa-LEAK",
	"sa-bearer-token-LEAK", "sa-realm-LEAK", "sa-htpasswd-LEAK", "sa-hash-LEAK", "sa-user-LEAK",
	"sa-access-LEAK", "sa-error-LEAK", "sa-docroot-LEAK", "sa-private-key-body-LEAK", "secret-cert-sa-LEAK",
	"sa-cert-LEAK", "203.0.113.77", "192.0.2.55", "198.51.100.23", "LEAK", "/etc/nginx", "/srv",
}

// TestPayloadLeaksNothing runs every check on a host full of planted secrets and requires
// the upload payload to contain none of them, while the local details name some (so the
// test would notice a payload that carried details).
func TestPayloadLeaksNothing(t *testing.T) {
	fx, err := checktest.Load("testdata/leak/planted")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	id, err := report.NewAuditID(started)
	if err != nil {
		t.Fatal(err)
	}
	local := &report.Report{
		SchemaVersion: report.SchemaVersion, AuditID: id, Agent: report.Agent{Version: "1.0.0"},
		StartedAt: started, Host: report.Host{Hostname: "secret-vhost-sa-LEAK", Root: "/", OS: "linux", Arch: "amd64"},
	}
	var details bytes.Buffer
	failed := 0
	for _, c := range checksAt(fixtureClock) {
		res := checktest.Evaluate(fx.Host, c)
		entry, ok := cat.Lookup(c.ID())
		if !ok {
			t.Fatalf("%s has no catalog entry", c.ID())
		}
		sev := entry.Severity
		if res.Severity != "" {
			sev = res.Severity
		}
		if res.Status == report.StatusFail {
			failed++
		}
		local.Results = append(local.Results, report.Result{
			ID: c.ID(), Family: entry.Family(), Title: entry.Title, Severity: sev, Status: res.Status,
			Reason: res.Reason, Message: res.Message, Details: res.Details, Facts: res.Facts,
		})
		details.WriteString(res.Message + "\n" + strings.Join(res.Details, "\n") + "\n")
	}
	local.Summary = report.Summarize(local.Results)
	payload, err := local.Payload(cat, report.PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if payload.DroppedFacts != 0 {
		t.Errorf("%d facts did not match their declared schema", payload.DroppedFacts)
	}
	data, err := payload.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range plantedSecrets {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("payload contains planted secret %q", secret)
		}
	}
	seen := 0
	for _, secret := range plantedSecrets {
		if strings.Contains(details.String(), secret) {
			seen++
		}
	}
	if seen == 0 {
		t.Fatal("the local details mention none of the planted secrets, so this test cannot tell a leak from nothing")
	}
	if failed < 5 {
		t.Errorf("only %d checks fail on the leak fixture; it is meant to exercise the failing paths", failed)
	}
	for _, want := range []string{`"nginx.tls-ciphers"`, `"weak_ciphers":["rc4"]`, `"min_max_age":600`, `"config_source":"nginx-t"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("payload lacks %s:\n%s", want, data)
		}
	}
	t.Logf("payload of %d bytes free of %d planted secrets; local details name %d of them; %d checks fail", len(data), len(plantedSecrets), seen, failed)
}
