package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// acceptRedirectsCheck is system.icmp-redirects-accept. It passes when:
//   - net.ipv4.conf.{all,default}.accept_redirects and .secure_redirects are 0,
//   - net.ipv6.conf.{all,default}.accept_redirects are 0 (when IPv6 is enabled),
//   - and no existing interface accepts redirects by the kernel's rule (acceptRedirects4,
//     acceptRedirects6), which takes each interface's own forwarding setting into account.
//
// secure_redirects is checked in conf/all and conf/default only, as the benchmarks do: it
// narrows which redirects an interface accepts and matters only where accept_redirects is
// effective, which already fails.
type acceptRedirectsCheck struct{}

// ID implements checks.Check.
func (acceptRedirectsCheck) ID() string { return "system.icmp-redirects-accept" }

// Run implements checks.Check.
func (acceptRedirectsCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	v4, err := readNetConf(proc, "ipv4", "accept_redirects")
	if err != nil {
		return netConfError(err), nil
	}
	fwd4, err := readNetConf(proc, "ipv4", "forwarding")
	if err != nil {
		return netConfError(err), nil
	}
	secure, err := readNetConf(proc, "ipv4", "secure_redirects")
	if err != nil {
		return netConfError(err), nil
	}
	acc4 := acceptingIPv4(v4, fwd4)

	var problems, details []string
	problems = append(problems, nonZero(v4.key("all"), v4.all), nonZero(v4.key("default"), v4.def))
	if len(acc4) > 0 {
		problems = append(problems, fmt.Sprintf("%d IPv4 interface(s) accept redirects", len(acc4)))
		details = append(details, fmt.Sprintf("IPv4 interfaces accepting redirects: %s (conf/all = %d; effective value is all OR interface without forwarding, all AND interface with forwarding)", nameList(acc4), v4.all))
	}
	problems = append(problems, nonZero(secure.key("all"), secure.all), nonZero(secure.key("default"), secure.def))

	ipv6 := true
	v6, err := readNetConf(proc, "ipv6", "accept_redirects")
	var fwd6 netConf
	if err == nil {
		fwd6, err = readNetConf(proc, "ipv6", "forwarding")
	}
	var acc6 []string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ipv6 = false
		details = append(details, "IPv6 settings are absent (IPv6 disabled); IPv4 only")
	case err != nil:
		return netConfError(err), nil
	default:
		acc6 = acceptingIPv6(v6, fwd6)
		problems = append(problems, nonZero(v6.key("all"), v6.all), nonZero(v6.key("default"), v6.def))
		if len(acc6) > 0 {
			problems = append(problems, fmt.Sprintf("%d IPv6 interface(s) accept redirects", len(acc6)))
			details = append(details, fmt.Sprintf("IPv6 interfaces accepting redirects: %s (an interface accepts when its own accept_redirects is on and its forwarding is off)", nameList(acc6)))
		}
	}

	problems = compact(problems)
	var res checks.Result
	if len(problems) == 0 {
		scope := "IPv4 and IPv6"
		if !ipv6 {
			scope = "IPv4; IPv6 disabled"
		}
		res = checks.Pass("no interface accepts ICMP redirects; accept_redirects and secure_redirects are 0 in conf/all and conf/default (%s)", scope)
	} else {
		res = checks.Fail("ICMP redirects accepted: %s", strings.Join(problems, "; "))
	}
	res = res.Bool("ipv4_accept", v4.all != 0 || v4.def != 0).
		Int("ipv4_accepting_interfaces", int64(len(acc4))).
		Bool("secure_redirects", secure.all != 0 || secure.def != 0)
	if ipv6 {
		res = res.Bool("ipv6_accept", v6.all != 0 || v6.def != 0).
			Int("ipv6_accepting_interfaces", int64(len(acc6)))
	}
	for _, d := range details {
		res = res.Detail("%s", d)
	}
	return res, nil
}

// acceptingIPv4 returns the interfaces that accept IPv4 redirects. An interface missing
// from fwd (it appeared between the two reads) is taken to follow conf/all/forwarding.
func acceptingIPv4(redirects, fwd netConf) []string {
	forwarding := fwd.byName()
	return redirects.namesWhere(func(iv ifaceValue) bool {
		f, ok := forwarding[iv.name]
		if !ok {
			f = fwd.all
		}
		return acceptRedirects4(redirects.all, iv.value, f != 0)
	})
}

// acceptingIPv6 returns the interfaces that accept IPv6 redirects, with the same fallback
// as acceptingIPv4.
func acceptingIPv6(redirects, fwd netConf) []string {
	forwarding := fwd.byName()
	return redirects.namesWhere(func(iv ifaceValue) bool {
		f, ok := forwarding[iv.name]
		if !ok {
			f = fwd.all
		}
		return acceptRedirects6(iv.value, f != 0)
	})
}

// sendRedirectsCheck is system.icmp-redirects-send: an interface sends redirects when
// conf/all or its own send_redirects is on (orConf). It passes when conf/all and
// conf/default are 0 and no existing interface sends.
type sendRedirectsCheck struct{}

// ID implements checks.Check.
func (sendRedirectsCheck) ID() string { return "system.icmp-redirects-send" }

// Run implements checks.Check.
func (sendRedirectsCheck) Run(_ context.Context, h host.Host) (checks.Result, error) {
	proc, err := h.Proc()
	if err != nil {
		return checks.FromError("procfs", err), nil
	}
	c, err := readNetConf(proc, "ipv4", "send_redirects")
	if err != nil {
		return netConfError(err), nil
	}
	sending := c.namesWhere(func(iv ifaceValue) bool { return orConf(c.all, iv.value) })
	problems := []string{nonZero(c.key("all"), c.all), nonZero(c.key("default"), c.def)}
	if len(sending) > 0 {
		problems = append(problems, fmt.Sprintf("%d interface(s) send redirects", len(sending)))
	}
	problems = compact(problems)
	res := checks.Pass("no interface sends ICMP redirects; send_redirects is 0 in conf/all and conf/default")
	if len(problems) > 0 {
		res = checks.Fail("ICMP redirects sent: %s", strings.Join(problems, "; "))
	}
	res = res.Bool("send_redirects", c.all != 0 || c.def != 0).Int("sending_interfaces", int64(len(sending)))
	if len(sending) > 0 {
		res = res.Detail("interfaces sending redirects: %s (effective value is conf/all OR interface; conf/all = %d)", nameList(sending), c.all)
	}
	return res, nil
}

// nonZero describes a setting that should be 0 and is not; "" when it is 0.
func nonZero(key string, v int64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%s = %d", key, v)
}

// compact drops the empty strings nonZero returns for settings that are 0.
func compact(list []string) []string {
	return slices.DeleteFunc(list, func(s string) bool { return s == "" })
}
