package firewall

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// This file reads the firewall managers' configuration files: what would be loaded at
// boot. It works on offline roots as well as on the running system.

// notExist reports whether err means the file is absent.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// exists reports whether name exists; errors other than absence are returned.
func exists(fsys host.FS, name string) (bool, error) {
	_, err := fsys.Stat(name)
	switch {
	case err == nil:
		return true, nil
	case notExist(err):
		return false, nil
	}
	return false, err
}

// readOptional reads a file; a missing file is (nil, nil).
func readOptional(fsys host.FS, name string) ([]byte, error) {
	data, err := host.ReadFile(fsys, name)
	if notExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

// shellVars reads KEY=VALUE lines the way ufw reads its files: keys and values are
// lower-cased, quotes around the value removed, other lines ignored.
func shellVars(data []byte) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		vars[strings.ToLower(strings.TrimSpace(k))] = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`))
	}
	return vars
}

// ufwConfig is ufw's configuration.
type ufwConfig struct {
	installed bool
	// enabled: ENABLED=yes in /etc/ufw/ufw.conf (ufw starts at boot).
	enabled bool
	// logLevel is LOGLEVEL (off, low, medium, high, full), "" when unset.
	logLevel string
	// inputPolicy and forwardPolicy are DEFAULT_INPUT_POLICY and DEFAULT_FORWARD_POLICY
	// (drop, reject, accept).
	inputPolicy, forwardPolicy string
	// ipv6: IPV6=yes in /etc/default/ufw.
	ipv6 bool
	// rules counts the user rules (tuples) of user.rules and user6.rules.
	rules int
	err   error
}

// readUFW reads ufw's configuration files.
func readUFW(fsys host.FS) ufwConfig {
	var c ufwConfig
	conf, err := readOptional(fsys, "/etc/ufw/ufw.conf")
	if err != nil {
		return ufwConfig{err: err}
	}
	if conf == nil {
		return c
	}
	c.installed = true
	v := shellVars(conf)
	c.enabled = v["enabled"] == "yes"
	c.logLevel = v["loglevel"]
	def, err := readOptional(fsys, "/etc/default/ufw")
	if err != nil {
		return ufwConfig{installed: true, err: err}
	}
	d := shellVars(def)
	c.inputPolicy, c.forwardPolicy = d["default_input_policy"], d["default_forward_policy"]
	c.ipv6 = d["ipv6"] == "yes"
	for _, name := range []string{"/etc/ufw/user.rules", "/etc/ufw/user6.rules"} {
		data, err := readOptional(fsys, name)
		if err != nil {
			return ufwConfig{installed: true, err: err}
		}
		c.rules += bytes.Count(data, []byte("\n### tuple ###"))
	}
	return c
}

// policyVerdict maps a manager's policy word to a verdict.
func policyVerdict(p string) verdictKind {
	switch strings.ToLower(strings.Trim(p, "%")) {
	case "drop":
		return vDrop
	case "reject", "default":
		return vReject
	case "accept":
		return vAccept
	}
	return vNone
}

// firewalldConfig is firewalld's configuration.
type firewalldConfig struct {
	installed bool
	// defaultZone is DefaultZone (public when unset); logDenied is LogDenied (off when
	// unset); backend is FirewallBackend.
	defaultZone, logDenied, backend string
	zone                            zoneInfo
	err                             error
}

// zoneInfo is the default zone's definition.
type zoneInfo struct {
	found bool
	path  string
	// target is default, accept, drop or reject.
	target string
	// services and ports count what the zone opens; broadPorts counts port ranges that
	// cover at least half the port space.
	services, ports, broadPorts int
}

// zoneXML is a firewalld zone file.
type zoneXML struct {
	XMLName  xml.Name `xml:"zone"`
	Target   string   `xml:"target,attr"`
	Services []struct {
		Name string `xml:"name,attr"`
	} `xml:"service"`
	Ports []struct {
		Protocol string `xml:"protocol,attr"`
		Port     string `xml:"port,attr"`
	} `xml:"port"`
}

// readFirewalld reads /etc/firewalld/firewalld.conf and the default zone, preferring the
// administrator's zone file in /etc/firewalld/zones over the packaged one.
func readFirewalld(fsys host.FS) firewalldConfig {
	var c firewalldConfig
	for _, dir := range []string{"/etc/firewalld", "/usr/lib/firewalld"} {
		ok, err := exists(fsys, dir)
		if err != nil {
			return firewalldConfig{err: err}
		}
		c.installed = c.installed || ok
	}
	if !c.installed {
		return c
	}
	conf, err := readOptional(fsys, "/etc/firewalld/firewalld.conf")
	if err != nil {
		return firewalldConfig{installed: true, err: err}
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	c.defaultZone, c.logDenied, c.backend = vars["DefaultZone"], strings.ToLower(vars["LogDenied"]), vars["FirewallBackend"]
	if c.defaultZone == "" {
		c.defaultZone = "public"
	}
	if c.logDenied == "" {
		c.logDenied = "off"
	}
	if strings.ContainsAny(c.defaultZone, "/\x00") {
		return firewalldConfig{installed: true, err: fmt.Errorf("firewalld DefaultZone %q: %w", c.defaultZone, checks.ErrParse)}
	}
	for _, dir := range []string{"/etc/firewalld/zones/", "/usr/lib/firewalld/zones/"} {
		path := dir + c.defaultZone + ".xml"
		data, err := readOptional(fsys, path)
		if err != nil {
			return firewalldConfig{installed: true, err: err}
		}
		if data == nil {
			continue
		}
		z, err := parseZone(data)
		if err != nil {
			return firewalldConfig{installed: true, err: fmt.Errorf("parse %s: %w", path, err)}
		}
		z.path = path
		c.zone = z
		break
	}
	return c
}

// parseZone reads a zone file.
func parseZone(data []byte) (zoneInfo, error) {
	var x zoneXML
	if err := xml.Unmarshal(data, &x); err != nil {
		return zoneInfo{}, fmt.Errorf("%v: %w", err, checks.ErrParse)
	}
	z := zoneInfo{found: true, services: len(x.Services), ports: len(x.Ports)}
	switch strings.ToUpper(x.Target) {
	case "", "DEFAULT":
		z.target = "default"
	case "ACCEPT":
		z.target = "accept"
	case "DROP":
		z.target = "drop"
	case "%%REJECT%%", "REJECT":
		z.target = "reject"
	default:
		return zoneInfo{}, fmt.Errorf("zone target %q: %w", x.Target, checks.ErrParse)
	}
	for _, p := range x.Ports {
		if v := portRangeValue(strings.ReplaceAll(p.Port, "-", ":")); v.kind == valRange && v.hi-v.lo+1 >= halfPorts {
			z.broadPorts++
		}
	}
	return z, nil
}

// unitState is the enablement of systemd units, read from /etc/systemd/system.
type unitState struct {
	// systemd: /etc/systemd/system exists.
	systemd bool
	enabled map[string]bool
	masked  map[string]bool
}

// firewallUnits are the units of the firewall managers.
func firewallUnits() []string {
	return []string{"ufw.service", "firewalld.service", "nftables.service", "netfilter-persistent.service",
		"iptables.service", "ip6tables.service"}
}

// readUnits finds which of the firewall units are enabled: linked from a *.wants or
// *.requires directory of /etc/systemd/system and not masked.
func readUnits(fsys host.FS) (unitState, error) {
	u := unitState{enabled: map[string]bool{}, masked: map[string]bool{}}
	const dir = "/etc/systemd/system"
	entries, err := fsys.ReadDir(dir)
	if notExist(err) {
		return u, nil
	}
	if err != nil {
		return u, err
	}
	u.systemd = true
	units := firewallUnits()
	for _, e := range entries {
		for _, name := range units {
			if e == name {
				if target, err := fsys.Readlink(dir + "/" + e); err == nil && target == "/dev/null" {
					u.masked[name] = true
				}
			}
		}
		if !strings.HasSuffix(e, ".wants") && !strings.HasSuffix(e, ".requires") {
			continue
		}
		links, err := fsys.ReadDir(dir + "/" + e)
		if notExist(err) {
			continue
		}
		if err != nil {
			return u, err
		}
		for _, l := range links {
			for _, name := range units {
				if l == name {
					u.enabled[name] = true
				}
			}
		}
	}
	for name := range u.masked {
		delete(u.enabled, name)
	}
	return u, nil
}

// rulesFile is an iptables-restore file a boot service loads.
type rulesFile struct {
	path    string
	v6      bool
	present bool
	tables  []*table
	err     error
}

// filterRules counts the rules outside NAT tables.
func filterRules(tables []*table) (rules, logRules int) {
	for _, t := range tables {
		if !t.isNAT() {
			rules += t.rules
			logRules += t.logRules
		}
	}
	return rules, logRules
}

// hasDropPolicy reports whether a filter base chain of the tables drops by policy.
func hasDropPolicy(tables []*table) bool {
	for _, t := range tables {
		for _, c := range t.order {
			if c.base && c.ctype == "filter" && c.policy != vAccept {
				return true
			}
		}
	}
	return false
}

// nontrivial reports whether loading the file filters anything.
func (f rulesFile) nontrivial() bool {
	n, _ := filterRules(f.tables)
	return n > 0 || hasDropPolicy(f.tables)
}

// readRulesFile reads and parses an iptables-restore file.
func readRulesFile(fsys host.FS, path string, v6 bool) rulesFile {
	f := rulesFile{path: path, v6: v6}
	data, err := readOptional(fsys, path)
	if err != nil || data == nil {
		f.err = err
		return f
	}
	f.present = true
	f.tables, _, f.err = parseIptablesSave(data, v6, backendConfig)
	if f.err != nil {
		f.err = fmt.Errorf("parse %s: %w", path, f.err)
	}
	return f
}

// nftConfFile is the nftables service's configuration file.
type nftConfFile struct {
	path    string
	present bool
	cfg     nftConfig
	err     error
}

// readNftConf reads the first nftables configuration file present (Debian, then
// Red Hat).
func readNftConf(fsys host.FS) nftConfFile {
	for _, path := range []string{"/etc/nftables.conf", "/etc/sysconfig/nftables.conf"} {
		data, err := readOptional(fsys, path)
		if err != nil {
			return nftConfFile{path: path, err: err}
		}
		if data == nil {
			continue
		}
		cfg, err := scanNftConf(string(data))
		if err != nil {
			return nftConfFile{path: path, present: true, err: fmt.Errorf("parse %s: %w", path, err)}
		}
		return nftConfFile{path: path, present: true, cfg: cfg}
	}
	return nftConfFile{}
}
