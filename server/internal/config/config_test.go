package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/securecodehq/server-audit/server/internal/config"
)

func parse(t *testing.T, args []string, env map[string]string) (config.Serve, error) {
	t.Helper()
	var c config.Serve
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	config.BindCommon(fs, &c.Common)
	config.BindServe(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	err := config.ApplyEnv(fs, func(k string) string { return env[k] })
	return c, err
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	c, err := parse(t, []string{"--listen", ":9000", "--workers", "2"}, map[string]string{
		"DATABASE_URL":                     "postgres://db/x",
		"SERVER_AUDIT_API_LISTEN":          ":7000",
		"SERVER_AUDIT_API_TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.1",
		"SERVER_AUDIT_API_REQUEST_TIMEOUT": "3s",
		"SERVER_AUDIT_API_TOKEN_RATE":      "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9000" || c.Workers != 2 || c.DatabaseURL != "postgres://db/x" || c.RequestTimeout != 3*time.Second || c.TokenRate != 0 {
		t.Fatalf("%+v", c)
	}
	proxies, _, err := c.Validate()
	if err != nil || len(proxies) != 2 || proxies[1].String() != "192.0.2.1/32" {
		t.Fatalf("proxies %v, %v", proxies, err)
	}
}

func TestBadEnvironmentValueNamesTheVariableNotTheValue(t *testing.T) {
	_, err := parse(t, nil, map[string]string{"SERVER_AUDIT_API_WORKERS": "many-secret-words"})
	if err == nil || !strings.Contains(err.Error(), "SERVER_AUDIT_API_WORKERS") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err %v", err)
	}
}

func TestValidate(t *testing.T) {
	c, _ := parse(t, nil, nil)
	if _, _, err := c.Validate(); !errors.Is(err, config.ErrNoDatabase) || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "--database-url") {
		t.Fatalf("no database: %v", err)
	}
	base := map[string]string{"DATABASE_URL": "postgres://x"}
	for _, args := range [][]string{
		{"--tls-cert", "c.pem"},
		{"--trusted-proxies", "not-a-cidr"},
		{"--public-url", "ftp://x"},
		{"--public-url", "https://x/?q=1"},
		{"--public-url", "https://user:pw@x/"},
		{"--max-body-bytes", "0"},
		{"--token-burst", "0"},
		{"--ip-rate", "-1"},
		{"--request-timeout", "0s"},
		{"--workers", "-1"},
		{"--db-max-conns", "1"},
		{"--log-level", "loud"},
	} {
		c, err := parse(t, args, base)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Validate(); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	c, _ = parse(t, []string{"--public-url", "https://audit.example.com/base"}, base)
	if _, u, err := c.Validate(); err != nil || u.String() != "https://audit.example.com/base" {
		t.Fatalf("%v %v", u, err)
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3/8":          "10.0.0.0/8",
		"192.0.2.1":           "192.0.2.1/32",
		"2001:db8::1":         "2001:db8::1/128",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
		" ::ffff:192.0.2.9 ":  "192.0.2.9/32",
		"2001:db8::/32":       "2001:db8::/32",
	} {
		p, err := config.ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("%q: %v %v, want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "x", "10.0.0.0/33", "fe80::1%eth0"} {
		if _, err := config.ParsePrefix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
