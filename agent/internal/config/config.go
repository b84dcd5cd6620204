// Package config reads the agent's configuration file (default
// /etc/server-audit/config.yaml):
//
//	fail_on: high            # default for --fail-on
//	skip: [system.sysrq]     # checks or families never run (like --skip)
//	suppress:                # checks not run, listed as suppressed, excluded from the score
//	  - check: system.ip-forwarding
//	    reason: this host routes traffic for the VPN
//	    until: 2027-06-30    # optional; the suppression lapses after this date
//	endpoint: https://api.securecodehq.com   # API base URL (like --endpoint)
//	token_file: /etc/server-audit/token      # file holding the upload token (like --token-file)
//	token: sat_...           # the token itself; the file must then be readable by root only
//	ca_file: /etc/server-audit/ca.pem        # extra CA certificates (like --ca-file)
//
// Unknown keys, unknown check IDs and suppressions without a reason are errors: a typo must
// not silently change what is audited.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultPath is read when --config is not given; it may be absent.
const DefaultPath = "/etc/server-audit/config.yaml"

// maxSize bounds the configuration file.
const maxSize = 1 << 20

// Config is the parsed configuration file.
type Config struct {
	// Path is where the configuration was read from; empty when no file was read.
	Path string `yaml:"-"`
	// FailOn is the default --fail-on threshold.
	FailOn string `yaml:"fail_on"`
	// Skip lists check IDs or families never run.
	Skip []string `yaml:"skip"`
	// Suppress lists suppressed checks.
	Suppress []Suppression `yaml:"suppress"`
	// Endpoint is the API base URL for uploads.
	Endpoint string `yaml:"endpoint"`
	// Token is an upload token. A configuration holding one should be mode 0600
	// (see TokenExposed); TokenFile is the better place.
	Token string `yaml:"token"`
	// TokenFile names a file holding the upload token.
	TokenFile string `yaml:"token_file"`
	// CAFile names a PEM file of CA certificates trusted for uploads.
	CAFile string `yaml:"ca_file"`
	// Mode is the permission bits of the file read (zero when none was read).
	Mode fs.FileMode `yaml:"-"`
}

// TokenExposed reports whether the configuration holds a token and other users than its
// owner may read the file.
func (c *Config) TokenExposed() bool {
	return c.Token != "" && c.Mode&0o077 != 0
}

// Suppression suppresses one check or family with a reason.
type Suppression struct {
	// Check is a check ID or a family name.
	Check string `yaml:"check"`
	// Reason says why; it is shown in the local report and never sent.
	Reason string `yaml:"reason"`
	// Until is an optional expiry date, YYYY-MM-DD; the suppression applies through that day.
	Until string `yaml:"until"`
}

// Active reports whether the suppression applies at now.
func (s Suppression) Active(now time.Time) bool {
	if s.Until == "" {
		return true
	}
	until, err := time.ParseInLocation(time.DateOnly, s.Until, time.UTC)
	if err != nil {
		return true
	}
	return now.Before(until.AddDate(0, 0, 1))
}

// Load reads the configuration at path. When explicit is false a missing file yields an
// empty configuration; when true (--config given) it is an error.
func Load(path string, explicit bool) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxSize+1)); err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if buf.Len() > maxSize {
		return nil, fmt.Errorf("read config %s: larger than %d bytes", path, maxSize)
	}
	cfg, err := Parse(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.Path = path
	if st.Mode().IsRegular() {
		cfg.Mode = st.Mode().Perm()
	}
	return cfg, nil
}

// Parse parses configuration YAML strictly. An empty document is an empty configuration.
func Parse(data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse: %w", err)
	}
	for i, s := range cfg.Suppress {
		if s.Check == "" {
			return nil, fmt.Errorf("suppress[%d]: check is required", i)
		}
		if s.Reason == "" {
			return nil, fmt.Errorf("suppress[%d] (%s): a reason is required", i, s.Check)
		}
		if s.Until != "" {
			if _, err := time.Parse(time.DateOnly, s.Until); err != nil {
				return nil, fmt.Errorf("suppress[%d] (%s): until must be a date like 2027-01-31", i, s.Check)
			}
		}
	}
	return &cfg, nil
}
