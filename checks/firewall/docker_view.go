package firewall

import "slices"

// This file holds read-only views of the state for the docker family, which judges whether
// ports Docker publishes bypass ufw or firewalld (moby/moby#22054).

// LiveErr reports why the running ruleset could not be read (offline root, tools missing,
// no permission, unreadable output); nil when it was read.
func (s *State) LiveErr() error {
	if s == nil {
		return nil
	}
	return s.liveErr
}

// ActiveManagers lists the firewall managers whose rules are loaded now ("ufw",
// "firewalld"), in that order.
func (s *State) ActiveManagers() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.activeManagers())
}

// DockerChains reports whether the running ruleset holds Docker's own DOCKER chain: the
// daemon manages iptables.
func (s *State) DockerChains() bool {
	return s != nil && s.hasChain("DOCKER")
}

// DockerUserRules looks at the DOCKER-USER chain of the iptables filter tables (both
// backends) of one address family. found reports whether the chain is loaded; rules counts
// its rules that can act on a packet: every rule except an unconditional RETURN, which
// Docker adds itself.
func (s *State) DockerUserRules(v6 bool) (rules int, found bool) {
	if s == nil || s.ruleset == nil {
		return 0, false
	}
	want := famIPv4
	if v6 {
		want = famIPv6
	}
	for _, t := range s.ruleset.tables {
		if t.backend == backendNft || t.family != want || t.name != "filter" {
			continue
		}
		c := t.chains["DOCKER-USER"]
		if c == nil {
			continue
		}
		found = true
		for _, r := range c.rules {
			if len(r.conds) == 0 && r.verdict.kind == vReturn {
				continue
			}
			rules++
		}
	}
	return rules, found
}
