package system

import (
	"context"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// rpFilterCheck is system.reverse-path-filter. The kernel filters an interface with
// max(conf/all, conf/<iface>) of rp_filter (maxConf), 1 strict and 2 loose. The check passes
// when conf/all is 1 or more, which covers every interface present and future, or when
// conf/default and every existing non-loopback interface are 1 or more.
type rpFilterCheck struct{}

// ID implements checks.Check.
func (rpFilterCheck) ID() string { return "system.reverse-path-filter" }

// Run implements checks.Check.
func (rpFilterCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	c, err := readNetConf(proc, "ipv4", "rp_filter")
	if err != nil {
		return netConfError(err), nil
	}
	unfiltered := c.namesWhere(func(iv ifaceValue) bool { return maxConf(c.all, iv.value) < 1 })
	var res checks.Result
	switch {
	case c.all >= 1:
		res = checks.Pass("%s = %d: every interface is filtered", c.key("all"), c.all)
	case c.def >= 1 && len(unfiltered) == 0:
		res = checks.Pass("%s = 0, but %s = %d and every interface has rp_filter on", c.key("all"), c.key("default"), c.def)
	case c.def >= 1:
		res = checks.Fail("%s = 0 and %d interface(s) have rp_filter = 0", c.key("all"), len(unfiltered))
	case len(unfiltered) == 0:
		res = checks.Fail("%s = 0 and %s = 0: interfaces created from now on are not filtered", c.key("all"), c.key("default"))
	default:
		res = checks.Fail("%s = 0, %s = 0 and %d interface(s) have rp_filter = 0", c.key("all"), c.key("default"), len(unfiltered))
	}
	res = res.Int("rp_filter_all", c.all).Int("rp_filter_default", c.def).
		Int("unfiltered_interfaces", int64(len(unfiltered)))
	if len(unfiltered) > 0 {
		res = res.Detail("interfaces without reverse-path filtering: %s", nameList(unfiltered))
	}
	return res, nil
}

// logMartiansCheck is system.log-martians: an interface logs martian packets when conf/all
// or its own log_martians is on (orConf). It passes when conf/all is on, or when
// conf/default and every existing non-loopback interface are on.
type logMartiansCheck struct{}

// ID implements checks.Check.
func (logMartiansCheck) ID() string { return "system.log-martians" }

// Run implements checks.Check.
func (logMartiansCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	c, err := readNetConf(proc, "ipv4", "log_martians")
	if err != nil {
		return netConfError(err), nil
	}
	silent := c.namesWhere(func(iv ifaceValue) bool { return !orConf(c.all, iv.value) })
	var res checks.Result
	switch {
	case c.all != 0:
		res = checks.Pass("%s = %d: every interface logs martian packets", c.key("all"), c.all)
	case c.def != 0 && len(silent) == 0:
		res = checks.Pass("%s = 0, but %s = %d and every interface logs martian packets", c.key("all"), c.key("default"), c.def)
	case c.def != 0:
		res = checks.Fail("%s = 0 and %d interface(s) have log_martians = 0", c.key("all"), len(silent))
	case len(silent) == 0:
		res = checks.Fail("%s = 0 and %s = 0: interfaces created from now on do not log martian packets", c.key("all"), c.key("default"))
	default:
		res = checks.Fail("%s = 0, %s = 0 and %d interface(s) have log_martians = 0", c.key("all"), c.key("default"), len(silent))
	}
	res = res.Int("log_martians_all", c.all).Int("log_martians_default", c.def).
		Int("unlogged_interfaces", int64(len(silent)))
	if len(silent) > 0 {
		res = res.Detail("interfaces not logging martian packets: %s", nameList(silent))
	}
	return res, nil
}
