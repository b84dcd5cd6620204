package ports

import (
	"context"
	"fmt"
	"slices"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/firewall"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

// cleartextServices send credentials or data in clear text.
func cleartextServices() []string {
	return []string{"telnet", "ftp", "tftp", "finger", "rsh", "rlogin", "rexec", "pop3", "imap", "rsync", "snmp", "snmptrap"}
}

// startTLSServices are the cleartext services that can be confined to STARTTLS.
func startTLSServices() []string { return []string{"pop3", "imap"} }

// datastoreServices are databases, caches and search engines.
func datastoreServices() []string {
	return []string{"mysql", "postgresql", "redis", "memcached", "mongodb", "elasticsearch", "couchdb", "cassandra", "influxdb", "zookeeper"}
}

// openByDefaultStores answer without authentication in common configurations.
func openByDefaultStores() []string {
	return []string{"redis", "memcached", "mongodb", "elasticsearch"}
}

// controlPlaneServices are orchestration and monitoring endpoints.
func controlPlaneServices() []string {
	return []string{"etcd", "kube-apiserver", "kubelet", "kubelet-readonly", "kube-proxy", "kube-controller-manager",
		"kube-scheduler", "kubernetes-dashboard", "prometheus", "alertmanager", "node-exporter", "containerd"}
}

// remoteAccessServices are remote desktops, X11, RPC and file sharing.
func remoteAccessServices() []string {
	return []string{"rdp", "vnc", "x11", "rpcbind", "nfs", "msrpc", "netbios-ns", "netbios-dgm", "netbios-ssn", "smb"}
}

// mailServices are the SMTP ports.
func mailServices() []string { return []string{"smtp", "smtps", "submission"} }

// localDetails adds a line per loopback-only listener of the services, so that a pass
// shows what was found and judged safe.
func localDetails(r checks.Result, inv *inventory, services []string) checks.Result {
	return withDetails(r, ofServices(inv.local(), services...), func(listener) string { return "loopback only" })
}

// cleartextCheck is ports.cleartext-services. It fails when a service that sends
// credentials or data in clear text (telnet, FTP, TFTP, finger, the r-services, POP3,
// IMAP, the rsync daemon, SNMP) listens beyond loopback. POP3 and IMAP can be confined to
// STARTTLS by the server's configuration, which sockets do not show: when they are the only
// findings the result is lowered to medium.
type cleartextCheck struct{ f *family }

// ID implements checks.Check.
func (cleartextCheck) ID() string { return "ports.cleartext-services" }

// Run implements checks.Check.
func (c cleartextCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	return evalCleartext(inv), nil
}

func evalCleartext(inv *inventory) checks.Result {
	ls := ofServices(inv.exposed(), cleartextServices()...)
	if len(ls) == 0 {
		res := withListeners(checks.Pass("no cleartext legacy service listens beyond loopback"), ls, maxListed)
		return localDetails(res, inv, cleartextServices())
	}
	res := checks.Fail("%d cleartext service(s) listen beyond loopback: %s", len(ls), summary(ls))
	res = withDetails(withListeners(res, ls, maxListed), ls, nil)
	if !slices.ContainsFunc(ls, func(l listener) bool { return !slices.Contains(startTLSServices(), l.service) }) {
		res = res.WithSeverity(catalog.SeverityMedium).
			Detail("POP3 and IMAP may be limited to STARTTLS by the server (Dovecot: ssl = required); prefer ports 995 and 993")
	}
	return res
}

// datastoresCheck is ports.datastores. It fails (high) when a database, cache or search
// engine listens beyond loopback. Redis, Memcached, MongoDB and Elasticsearch answer
// without authentication in common configurations: on any or a public address with the
// firewall admitting the port from anywhere, the result is critical.
type datastoresCheck struct{ f *family }

// ID implements checks.Check.
func (datastoresCheck) ID() string { return "ports.datastores" }

// Run implements checks.Check.
func (c datastoresCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	pol, note := c.f.optionalPolicy(ctx, h)
	return evalDatastores(inv, pol, note), nil
}

func evalDatastores(inv *inventory, pol inboundPolicy, note string) checks.Result {
	ls := ofServices(inv.exposed(), datastoreServices()...)
	if len(ls) == 0 {
		res := withListeners(checks.Pass("no data store listens beyond loopback"), ls, maxListed)
		return localDetails(res, inv, datastoreServices())
	}
	verdicts, names := admissions(pol, ls)
	var open []listener
	for i, l := range ls {
		if slices.Contains(openByDefaultStores(), l.service) && l.scope.broad() && verdicts[i] == firewall.Admitted {
			open = append(open, l)
		}
	}
	res := checks.Fail("%d data store(s) listen beyond loopback: %s", len(ls), summary(ls))
	if len(open) > 0 {
		res.Message += fmt.Sprintf("; the firewall admits everyone to %s", summary(open))
	}
	res = withListeners(res, ls, maxListed).Enums("firewall", names)
	res = withDetails(res, ls, func(l listener) string {
		return "firewall: " + admissionName(admission(pol, l))
	})
	if len(open) == 0 {
		res = res.WithSeverity(catalog.SeverityHigh)
	}
	if note != "" {
		res = res.Detail("%s", note)
	}
	return res
}

// admissions returns the firewall verdict of each listener and the verdicts' fact values
// (at most maxListed, like the other list facts).
func admissions(pol inboundPolicy, ls []listener) ([]firewall.Admission, []string) {
	var verdicts []firewall.Admission
	var names []string
	for i, l := range ls {
		a := admission(pol, l)
		verdicts = append(verdicts, a)
		if i < maxListed {
			names = append(names, admissionName(a))
		}
	}
	return verdicts, names
}

// controlPlanesCheck is ports.control-planes. It fails when an orchestration or monitoring
// endpoint (etcd, the Kubernetes API server, kubelet, kube-proxy, controller-manager,
// scheduler, dashboard, Prometheus and its exporters, containerd) listens on any or a
// public address and the firewall does not restrict the port. A private address passes:
// cluster members talk to each other there.
type controlPlanesCheck struct{ f *family }

// ID implements checks.Check.
func (controlPlanesCheck) ID() string { return "ports.control-planes" }

// Run implements checks.Check.
func (c controlPlanesCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	pol, note := c.f.optionalPolicy(ctx, h)
	return evalControlPlanes(inv, pol, note), nil
}

func evalControlPlanes(inv *inventory, pol inboundPolicy, note string) checks.Result {
	ls := ofServices(inv.exposed(), controlPlaneServices()...)
	verdicts, names := admissions(pol, ls)
	var open []listener
	for i, l := range ls {
		if l.scope.broad() && !covered(verdicts[i]) {
			open = append(open, l)
		}
	}
	why := func(l listener) string {
		a := admission(pol, l)
		switch {
		case !l.scope.broad():
			return "private addresses only"
		case covered(a):
			return "firewall: " + admissionName(a)
		case a == firewall.AdmitUnknown:
			return "firewall: unknown, cannot show that the port is restricted"
		}
		return "firewall: admitted from anywhere"
	}
	var res checks.Result
	switch {
	case len(ls) == 0:
		res = localDetails(checks.Pass("no cluster or monitoring endpoint listens beyond loopback"), inv, controlPlaneServices())
	case len(open) == 0:
		res = checks.Pass("%d cluster or monitoring endpoint(s) beyond loopback, none open to the internet: %s", len(ls), summary(ls))
	default:
		res = checks.Fail("%d cluster or monitoring endpoint(s) on any or a public address without a firewall restriction: %s", len(open), summary(open))
	}
	res = withDetails(withListeners(res, ls, maxListed), ls, why)
	if len(ls) > 0 {
		res = res.Enums("firewall", names)
	}
	if note != "" && len(ls) > 0 {
		res = res.Detail("%s", note)
	}
	return res
}

// remoteAccessCheck is ports.remote-access. It fails when a remote desktop (RDP, VNC), X11,
// RPC portmapper, NFS or SMB/NetBIOS service listens on any or a public address. On a
// private address it passes: file and print sharing on a LAN is their purpose.
type remoteAccessCheck struct{ f *family }

// ID implements checks.Check.
func (remoteAccessCheck) ID() string { return "ports.remote-access" }

// Run implements checks.Check.
func (c remoteAccessCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	return evalRemoteAccess(inv), nil
}

func evalRemoteAccess(inv *inventory) checks.Result {
	ls := ofServices(inv.exposed(), remoteAccessServices()...)
	broad := slices.DeleteFunc(slices.Clone(ls), func(l listener) bool { return !l.scope.broad() })
	var res checks.Result
	switch {
	case len(ls) == 0:
		res = localDetails(checks.Pass("no remote desktop, X11, RPC, NFS or SMB service listens beyond loopback"), inv, remoteAccessServices())
	case len(broad) == 0:
		res = checks.Pass("remote access and file sharing services listen on private addresses only: %s", summary(ls))
	default:
		res = checks.Fail("%d remote access or file sharing service(s) on any or a public address: %s", len(broad), summary(broad))
	}
	return withDetails(withListeners(res, ls, maxListed), ls, nil)
}

// mtaCheck is ports.mta-local-only. It fails when an SMTP server (25, 465, 587) listens
// beyond loopback: most servers only send mail, and a local-only MTA can still deliver it.
// A host meant to receive mail should suppress the check with that reason.
type mtaCheck struct{ f *family }

// ID implements checks.Check.
func (mtaCheck) ID() string { return "ports.mta-local-only" }

// Run implements checks.Check.
func (c mtaCheck) Run(ctx context.Context, h host.Host) (checks.Result, error) {
	inv, errRes := c.f.load(ctx, h)
	if errRes != nil {
		return *errRes, nil
	}
	return evalMTA(inv), nil
}

func evalMTA(inv *inventory) checks.Result {
	ls := ofServices(inv.exposed(), mailServices()...)
	if len(ls) == 0 {
		res := withListeners(checks.Pass("no mail server listens beyond loopback"), ls, maxListed)
		return localDetails(res, inv, mailServices())
	}
	res := checks.Fail("the mail server listens beyond loopback: %s", summary(ls))
	return withDetails(withListeners(res, ls, maxListed), ls, nil).
		Detail("if this host is meant to receive mail, suppress ports.mta-local-only in /etc/server-audit/config.yaml with that reason")
}
