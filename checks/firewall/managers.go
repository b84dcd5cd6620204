package firewall

import (
	"fmt"
	"slices"
	"strings"
)

// Manager names, as sent in facts.
const (
	mgrUFW                 = "ufw"
	mgrFirewalld           = "firewalld"
	mgrNftables            = "nftables"
	mgrNetfilterPersistent = "netfilter-persistent"
	mgrIptables            = "iptables"
)

// hasChain reports whether a live table has a chain called one of names.
func (s *State) hasChain(names ...string) bool {
	if s.ruleset == nil {
		return false
	}
	for _, t := range s.ruleset.tables {
		for _, n := range names {
			if t.chains[n] != nil {
				return true
			}
		}
	}
	return false
}

// ufwLive reports whether ufw's chains are loaded.
func (s *State) ufwLive() bool { return s.hasChain("ufw-user-input", "ufw6-user-input") }

// firewalldTables reports whether firewalld's ruleset is loaded: its nftables table, or
// the zone chains of its iptables backend.
func (s *State) firewalldTables() bool {
	if s.ruleset == nil {
		return false
	}
	for _, t := range s.ruleset.tables {
		if t.backend == backendNft && t.family == famInet && t.name == "firewalld" {
			return true
		}
	}
	return s.hasChain("INPUT_ZONES")
}

// activeManagers lists the managers whose rules are loaded now.
func (s *State) activeManagers() []string {
	var out []string
	if s.ufwLive() {
		out = append(out, mgrUFW)
	}
	if s.firewalldRunning {
		out = append(out, mgrFirewalld)
	}
	return out
}

// bootManager is a manager set to start at boot.
type bootManager struct {
	name string
	// loads: starting it loads a ruleset that filters something.
	loads bool
	// why explains the finding for the local report.
	why string
}

// bootManagers lists the managers enabled to start at boot, from their systemd units and
// configuration files.
func (s *State) bootManagers() ([]bootManager, error) {
	if s.unitsErr != nil {
		return nil, fmt.Errorf("read systemd units: %w", s.unitsErr)
	}
	enabled := func(unit string) bool { return s.units.enabled[unit] }
	var out []bootManager
	if s.ufw.err != nil {
		return nil, fmt.Errorf("read ufw configuration: %w", s.ufw.err)
	}
	if s.ufw.enabled && (enabled("ufw.service") || !s.units.systemd) {
		out = append(out, bootManager{name: mgrUFW, loads: true, why: "ufw: ENABLED=yes in /etc/ufw/ufw.conf"})
	}
	if enabled("firewalld.service") {
		if s.firewalld.err != nil {
			return nil, fmt.Errorf("read firewalld configuration: %w", s.firewalld.err)
		}
		out = append(out, bootManager{name: mgrFirewalld, loads: true, why: "firewalld.service is enabled"})
	}
	if enabled("nftables.service") {
		if s.nftConf.err != nil {
			return nil, s.nftConf.err
		}
		m := bootManager{name: mgrNftables, why: "nftables.service is enabled"}
		switch {
		case !s.nftConf.present:
			m.why += " but no /etc/nftables.conf exists"
		case s.nftConf.cfg.nontrivial():
			m.loads = true
			m.why += fmt.Sprintf(" and loads %s (%d rules)", s.nftConf.path, s.nftConf.cfg.rules)
		default:
			m.why += fmt.Sprintf(" but %s has no rules and no drop policy", s.nftConf.path)
		}
		out = append(out, m)
	}
	for _, svc := range []struct {
		name  string
		units []string
		files []string
	}{
		{mgrNetfilterPersistent, []string{"netfilter-persistent.service"}, []string{"/etc/iptables/rules.v4", "/etc/iptables/rules.v6"}},
		{mgrIptables, []string{"iptables.service", "ip6tables.service"}, []string{"/etc/sysconfig/iptables", "/etc/sysconfig/ip6tables"}},
	} {
		if !slices.ContainsFunc(svc.units, enabled) {
			continue
		}
		m := bootManager{name: svc.name, why: svc.name + " is enabled"}
		var loaded []string
		for _, f := range s.persisted {
			if !slices.Contains(svc.files, f.path) {
				continue
			}
			if f.err != nil {
				return nil, f.err
			}
			if f.nontrivial() {
				loaded = append(loaded, f.path)
			}
		}
		m.loads = len(loaded) > 0
		if m.loads {
			m.why += " and loads " + strings.Join(loaded, " and ")
		} else {
			m.why += " but its rules files are missing or empty"
		}
		out = append(out, m)
	}
	return out, nil
}

// managerNames returns the names of managers.
func managerNames(list []bootManager) []string {
	var out []string
	for _, m := range list {
		if !slices.Contains(out, m.name) {
			out = append(out, m.name)
		}
	}
	return out
}

// bootDefault is the input default the enabled managers would set up at boot for one
// address family: drop or reject when one of them drops, accept when they all accept,
// vNone when none loads input filtering. why lists each manager's default.
func (s *State) bootDefault(v6 bool, managers []bootManager) (verdictKind, []string) {
	out := vNone
	var why []string
	note := func(name string, v verdictKind) {
		if v == vNone {
			return
		}
		why = append(why, fmt.Sprintf("%s: %s", name, v))
		switch {
		case v == vDrop || v == vReject:
			if out != vDrop && out != vReject {
				out = v
			}
		case out == vNone:
			out = v
		}
	}
	for _, m := range managers {
		switch m.name {
		case mgrUFW:
			if !v6 || s.ufw.ipv6 {
				note("ufw DEFAULT_INPUT_POLICY", policyVerdict(s.ufw.inputPolicy))
			}
		case mgrFirewalld:
			if s.firewalld.zone.found {
				note("firewalld zone "+s.firewalld.defaultZone+" target "+s.firewalld.zone.target, policyVerdict(s.firewalld.zone.target))
			}
		case mgrNftables:
			if m.loads {
				note(s.nftConf.path, s.nftConf.cfg.defaultFor(v6))
			}
		case mgrNetfilterPersistent, mgrIptables:
			for _, f := range s.persisted {
				if f.present && f.err == nil && f.v6 == v6 && s.fileOf(m.name, f.path) {
					d := familyDefault(f.tables, v6, false)
					note(f.path, d.verdict)
				}
			}
		}
	}
	return out, why
}

// fileOf reports whether path is a rules file of manager name.
func (s *State) fileOf(name, path string) bool {
	if name == mgrNetfilterPersistent {
		return path == "/etc/iptables/rules.v4" || path == "/etc/iptables/rules.v6"
	}
	return path == "/etc/sysconfig/iptables" || path == "/etc/sysconfig/ip6tables"
}
