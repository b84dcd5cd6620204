package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cfg, err := Parse([]byte("fail_on: medium\nskip: [system.sysrq]\nsuppress:\n  - check: system\n    reason: lab\n    until: 2027-01-31\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FailOn != "medium" || len(cfg.Skip) != 1 || len(cfg.Suppress) != 1 || cfg.Suppress[0].Until != "2027-01-31" {
		t.Fatalf("parsed %+v", cfg)
	}
	if empty, err := Parse(nil); err != nil || len(empty.Suppress) != 0 {
		t.Fatalf("empty config: %+v, %v", empty, err)
	}
	for doc, want := range map[string]string{
		"fail_on: high\nunknown_key: 1\n":                           "unknown_key",
		"suppress:\n  - check: system.aslr\n":                       "reason is required",
		"suppress:\n  - reason: x\n":                                "check is required",
		"suppress:\n  - {check: a.b, reason: x, until: tomorrow}\n": "until must be a date",
		"fail_on: [1, 2]\n":                                         "parse",
	} {
		if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error %v, want %q", doc, err, want)
		}
	}
}

func TestSuppressionActive(t *testing.T) {
	s := Suppression{Check: "x", Reason: "r", Until: "2027-01-31"}
	for when, want := range map[string]bool{
		"2027-01-30T12:00:00Z": true,
		"2027-01-31T23:59:59Z": true,
		"2027-02-01T00:00:00Z": false,
	} {
		now, _ := time.Parse(time.RFC3339, when)
		if got := s.Active(now); got != want {
			t.Errorf("Active(%s) = %v, want %v", when, got, want)
		}
	}
	if !(Suppression{Check: "x", Reason: "r"}).Active(time.Now()) {
		t.Error("a suppression without until must always apply")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	if cfg, err := Load(missing, false); err != nil || cfg.Path != "" {
		t.Errorf("missing default config: %+v, %v; want empty config", cfg, err)
	}
	if _, err := Load(missing, true); err == nil {
		t.Error("missing explicit config accepted")
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", maxSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, true); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized config: %v", err)
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("fail_on: low\n"), 0o644)
	if cfg, err := Load(good, true); err != nil || cfg.FailOn != "low" || cfg.Path != good {
		t.Errorf("Load(good) = %+v, %v", cfg, err)
	}
}

func TestUploadKeysAndTokenExposure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	body := "endpoint: https://audit.example.com\ntoken_file: /etc/server-audit/token\nca_file: /etc/server-audit/ca.pem\ntoken: sat_example\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "https://audit.example.com" || cfg.TokenFile != "/etc/server-audit/token" ||
		cfg.CAFile != "/etc/server-audit/ca.pem" || cfg.Token != "sat_example" {
		t.Errorf("upload keys not read: %+v", cfg)
	}
	if !cfg.TokenExposed() {
		t.Error("a 0644 configuration holding a token must be reported as exposed")
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err = Load(path, true); err != nil || cfg.TokenExposed() {
		t.Errorf("a 0600 configuration is not exposed: %v, %v", cfg.Mode, err)
	}
	if (&Config{Mode: 0o644}).TokenExposed() {
		t.Error("a configuration without a token exposes nothing")
	}
}
