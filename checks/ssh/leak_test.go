package ssh

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/checks/checktest"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// plantedSecrets are strings the leak fixture hides in sshd_config comments, an included
// file, the banner file, a private key file, a public key comment, AllowUsers, DenyUsers
// and ListenAddress.
var plantedSecrets = []string{
	"sa-secret-comment-LEAK", "Hunter2-sa-LEAK", "sa-fake-key-LEAK", "BEGIN OPENSSH PRIVATE KEY",
	"sa-private-key-body-LEAK", "alice-sa-LEAK", "deploy-sa-LEAK", "203.0.113.77", "192.0.2.55",
	"198.51.100.0", "banner-sa-LEAK", "sa-banner-token-LEAK", "ops-sa-LEAK@example.com",
	"secret-host-sa-LEAK", "LEAK", "/etc/ssh",
}

// TestPayloadLeaksNothing runs every check on a host full of planted secrets and requires
// the upload payload to contain none of them, while the local details do name some (so
// the test would notice a payload that carried details).
func TestPayloadLeaksNothing(t *testing.T) {
	fx, err := checktest.Load("testdata/leak/planted")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	id, err := report.NewAuditID(started)
	if err != nil {
		t.Fatal(err)
	}
	local := &report.Report{
		SchemaVersion: report.SchemaVersion, AuditID: id, Agent: report.Agent{Version: "1.0.0"},
		StartedAt: started, Host: report.Host{Hostname: "secret-host-sa-LEAK", Root: "/", OS: "linux", Arch: "amd64"},
	}
	var details bytes.Buffer
	for _, c := range Checks() {
		res := checktest.Evaluate(fx.Host, c)
		entry, ok := cat.Lookup(c.ID())
		if !ok {
			t.Fatalf("%s has no catalog entry", c.ID())
		}
		sev := entry.Severity
		if res.Severity != "" {
			sev = res.Severity
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
	if !bytes.Contains(data, []byte(`"ssh.access-restriction"`)) || !bytes.Contains(data, []byte(`"allow_users":2`)) {
		t.Errorf("payload lacks the access-restriction counts:\n%s", data)
	}
	t.Logf("payload of %d bytes free of %d planted secrets; local details name %d of them", len(data), len(plantedSecrets), seen)
}
