package system

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// Per-interface network settings live in /proc/sys/net/<family>/conf/<name>/<leaf>, where
// <name> is "all", "default" or an interface. The kernel combines conf/all with the
// interface's own value in a way that depends on the setting (include/linux/inetdevice.h and
// Documentation/networking/ip-sysctl.rst), so a check that reads only conf/all and
// conf/default misses interfaces that existed before sysctl.d was applied and kept their
// own, weaker value. The functions below read every interface and apply the kernel's rule.
//
// Interface names are read as directory names and joined as paths, never through sysctl
// key syntax: a VLAN interface "eth0.100" has dots in its name.

// loopback is the loopback interface, left out of per-interface verdicts: traffic on it
// comes from the host itself, and its settings were fixed before sysctl.d ran.
const loopback = "lo"

// ifaceValue is one interface's value of a setting.
type ifaceValue struct {
	name  string
	value int64
}

// netConf is one per-interface setting (net.<family>.conf.*.<leaf>) as the kernel holds it.
type netConf struct {
	family, leaf string
	all, def     int64
	// ifaces are the existing interfaces except loopback, sorted by name.
	ifaces []ifaceValue
}

// key returns the sysctl key of the setting for conf/<name>.
func (c netConf) key(name string) string {
	return "net." + c.family + ".conf." + name + "." + c.leaf
}

// readNetConf reads a per-interface setting for conf/all, conf/default and every existing
// interface. An absent conf/all or conf/default (IPv6 disabled, old kernel) is an
// fs.ErrNotExist error naming the key; an interface that disappears while it is read (a
// container's veth going away) is left out.
func readNetConf(proc host.FS, family, leaf string) (netConf, error) {
	c := netConf{family: family, leaf: leaf}
	var err error
	if c.all, err = readConfValue(proc, family, "all", leaf); err != nil {
		return c, &keyError{key: c.key("all"), err: err}
	}
	if c.def, err = readConfValue(proc, family, "default", leaf); err != nil {
		return c, &keyError{key: c.key("default"), err: err}
	}
	dir := "/sys/net/" + family + "/conf"
	names, err := proc.ReadDir(dir)
	if err != nil {
		return c, fmt.Errorf("list %s interfaces: %w", family, err)
	}
	for _, name := range names {
		if name == "all" || name == "default" || name == loopback {
			continue
		}
		v, err := readConfValue(proc, family, name, leaf)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return c, &keyError{key: c.key(name), err: err}
		}
		c.ifaces = append(c.ifaces, ifaceValue{name: name, value: v})
	}
	return c, nil
}

// keyError is a failed read of one sysctl key.
type keyError struct {
	key string
	err error
}

// Error implements error.
func (e *keyError) Error() string { return e.key + ": " + e.err.Error() }

// Unwrap returns the read error, so errors.Is sees fs.ErrNotExist and fs.ErrPermission.
func (e *keyError) Unwrap() error { return e.err }

// netConfError turns an error of readNetConf into a result as sysctlError does, naming the
// key that could not be read.
func netConfError(err error) checks.Result {
	var ke *keyError
	if errors.As(err, &ke) {
		return sysctlError(ke.key, ke.err)
	}
	return checks.FromError("network settings", err)
}

// readConfValue reads /proc/sys/net/<family>/conf/<name>/<leaf> as an integer.
func readConfValue(proc host.FS, family, name, leaf string) (int64, error) {
	data, err := host.ReadFileLimit(proc, "/sys/net/"+family+"/conf/"+name+"/"+leaf, 4096)
	if err != nil {
		return 0, err
	}
	text := strings.TrimSpace(string(data))
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("value %q: %w", text, checks.ErrParse)
	}
	return n, nil
}

// byName indexes the interfaces of a setting.
func (c netConf) byName() map[string]int64 {
	m := make(map[string]int64, len(c.ifaces))
	for _, iv := range c.ifaces {
		m[iv.name] = iv.value
	}
	return m
}

// orConf is the kernel's IN_DEV_ORCONF: the setting is on for an interface when conf/all or
// the interface's own value is on (send_redirects, secure_redirects, log_martians).
func orConf(all, iface int64) bool { return all != 0 || iface != 0 }

// maxConf is the kernel's IN_DEV_MAXCONF: the effective value is the larger of conf/all and
// the interface's own value (rp_filter).
func maxConf(all, iface int64) int64 { return max(all, iface) }

// acceptRedirects4 is the kernel's IN_DEV_RX_REDIRECTS for IPv4: an interface that forwards
// accepts redirects only when conf/all and its own value are both on; an interface that
// does not forward accepts them when either is on.
func acceptRedirects4(all, iface int64, forwarding bool) bool {
	if forwarding {
		return all != 0 && iface != 0
	}
	return all != 0 || iface != 0
}

// acceptRedirects6 is the IPv6 rule (net/ipv6/route.c, rt6_do_redirect): an interface
// honours a redirect when its own forwarding is off and its own accept_redirects is on;
// conf/all plays no part.
func acceptRedirects6(iface int64, forwarding bool) bool {
	return !forwarding && iface != 0
}

// namesWhere returns the names of the interfaces for which pred holds.
func (c netConf) namesWhere(pred func(ifaceValue) bool) []string {
	var out []string
	for _, iv := range c.ifaces {
		if pred(iv) {
			out = append(out, iv.name)
		}
	}
	return out
}

// nameList joins interface names for a detail line.
func nameList(names []string) string { return strings.Join(names, ", ") }
