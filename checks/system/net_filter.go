package system

import (
	"context"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// coverageCheck judges an IPv4 per-interface setting that the kernel combines with
// conf/all. It passes when conf/all alone covers every interface, present and future, or
// when conf/default and every existing non-loopback interface are covered.
type coverageCheck struct {
	id      string
	setting string // the conf key: "rp_filter"
	// allCovers reports whether a conf/all (or conf/default) value covers an interface.
	allCovers func(v int64) bool
	// covered applies the kernel's rule to conf/all and an interface's own value.
	covered func(all, iface int64) bool
	// covers and notCovers describe the state: "is filtered" / "are not filtered".
	covers, notCovers string
	// Fact names: conf/all, conf/default and the number of uncovered interfaces.
	allFact, defaultFact, uncoveredFact string
	// detail introduces the list of uncovered interfaces.
	detail string
}

// reversePathFilter is system.reverse-path-filter: the kernel filters an interface with
// max(conf/all, conf/<iface>) of rp_filter (maxConf), 1 strict and 2 loose.
func reversePathFilter() coverageCheck {
	return coverageCheck{
		id: "system.reverse-path-filter", setting: "rp_filter",
		allCovers: func(v int64) bool { return v >= 1 },
		covered:   func(all, iface int64) bool { return maxConf(all, iface) >= 1 },
		covers:    "is filtered", notCovers: "are not filtered",
		allFact: "rp_filter_all", defaultFact: "rp_filter_default", uncoveredFact: "unfiltered_interfaces",
		detail: "interfaces without reverse-path filtering",
	}
}

// logMartians is system.log-martians: an interface logs martian packets when conf/all or
// its own log_martians is on (orConf).
func logMartians() coverageCheck {
	return coverageCheck{
		id: "system.log-martians", setting: "log_martians",
		allCovers: func(v int64) bool { return v != 0 },
		covered:   orConf,
		covers:    "logs martian packets", notCovers: "do not log martian packets",
		allFact: "log_martians_all", defaultFact: "log_martians_default", uncoveredFact: "unlogged_interfaces",
		detail: "interfaces not logging martian packets",
	}
}

// ID implements checks.Check.
func (c coverageCheck) ID() string { return c.id }

// Run implements checks.Check.
func (c coverageCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	conf, err := readNetConf(proc, "ipv4", c.setting)
	if err != nil {
		return netConfError(err), nil
	}
	uncovered := conf.namesWhere(func(iv ifaceValue) bool { return !c.covered(conf.all, iv.value) })
	all, def := conf.key("all"), conf.key("default")
	var res checks.Result
	switch {
	case c.allCovers(conf.all):
		res = checks.Pass("%s = %d: every interface %s", all, conf.all, c.covers)
	case c.allCovers(conf.def) && len(uncovered) == 0:
		res = checks.Pass("%s = %d, but %s = %d and every interface %s", all, conf.all, def, conf.def, c.covers)
	case c.allCovers(conf.def):
		res = checks.Fail("%s = %d and %d interface(s) have %s = 0", all, conf.all, len(uncovered), c.setting)
	case len(uncovered) == 0:
		res = checks.Fail("%s = %d and %s = %d: interfaces created from now on %s", all, conf.all, def, conf.def, c.notCovers)
	default:
		res = checks.Fail("%s = %d, %s = %d and %d interface(s) have %s = 0", all, conf.all, def, conf.def, len(uncovered), c.setting)
	}
	res = res.Int(c.allFact, conf.all).Int(c.defaultFact, conf.def).Int(c.uncoveredFact, int64(len(uncovered)))
	if len(uncovered) > 0 {
		res = res.Detail("%s: %s", c.detail, nameList(uncovered))
	}
	return res, nil
}
