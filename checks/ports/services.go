package ports

import "strings"

// Service and process identification. Every value these tables produce is declared as an
// enum value in the catalog; anything not in them is "other", so facts never carry a name
// the catalog does not know.

// Process enum values that are not program names.
const (
	// procUnknown: the owner could not be determined (its descriptors were unreadable).
	procUnknown = "unknown"
	// procNone: no visible process holds the socket: a kernel socket (nfsd, WireGuard), a
	// process in another PID namespace, or one that exited during the scan.
	procNone = "none"
	// procOther: a program the catalog does not list.
	procOther = "other"
	// svcOther: a port and program the tables do not identify.
	svcOther = "other"
)

// protoPort is a transport protocol ("tcp" or "udp") and a port.
type protoPort struct {
	proto string
	port  int
}

// portServices maps well-known (protocol, port) pairs to service names (immutable).
var portServices = portServiceTable()

// portServiceTable builds portServices.
func portServiceTable() map[protoPort]string {
	m := map[protoPort]string{}
	add := func(proto string, service string, ports ...int) {
		for _, p := range ports {
			m[protoPort{proto, p}] = service
		}
	}
	both := func(service string, ports ...int) {
		add("tcp", service, ports...)
		add("udp", service, ports...)
	}
	span := func(proto, service string, lo, hi int) {
		for p := lo; p <= hi; p++ {
			add(proto, service, p)
		}
	}
	// Remote login and file transfer.
	add("tcp", "ssh", 22)
	add("tcp", "ftp", 21)
	add("tcp", "telnet", 23)
	add("udp", "tftp", 69)
	add("tcp", "finger", 79)
	add("tcp", "rexec", 512)
	add("tcp", "rlogin", 513)
	add("tcp", "rsh", 514)
	add("tcp", "rsync", 873)
	// Mail.
	add("tcp", "smtp", 25)
	add("tcp", "smtps", 465)
	add("tcp", "submission", 587)
	add("tcp", "pop3", 110)
	add("tcp", "imap", 143)
	add("tcp", "imaps", 993)
	add("tcp", "pop3s", 995)
	// Web.
	add("tcp", "http", 80, 8080)
	add("tcp", "https", 443, 8443)
	add("udp", "https", 443) // HTTP/3
	// Infrastructure services.
	both("dns", 53)
	add("tcp", "dns", 853)
	add("tcp", "rndc", 953)
	add("udp", "dhcp", 67, 547)
	add("udp", "dhcp-client", 68, 546)
	add("udp", "ntp", 123)
	add("udp", "chrony", 323)
	add("udp", "syslog", 514)
	add("udp", "mdns", 5353)
	both("llmnr", 5355)
	add("udp", "ssdp", 1900)
	add("udp", "snmp", 161)
	add("tcp", "snmp", 199)
	add("udp", "snmptrap", 162)
	both("ipp", 631)
	both("ldap", 389)
	add("tcp", "ldaps", 636)
	add("tcp", "squid", 3128)
	// Message brokers.
	add("tcp", "mqtt", 1883, 8883)
	add("tcp", "amqp", 5671, 5672)
	add("tcp", "epmd", 4369)
	add("tcp", "nats", 4222)
	// VPNs.
	add("udp", "wireguard", 51820)
	both("openvpn", 1194)
	add("udp", "ipsec", 500, 4500)
	add("udp", "tailscale", 41641)
	// Data stores.
	add("tcp", "mysql", 3306, 33060)
	add("tcp", "postgresql", 5432)
	add("tcp", "redis", 6379, 26379)
	both("memcached", 11211)
	span("tcp", "mongodb", 27017, 27019)
	add("tcp", "elasticsearch", 9200, 9300)
	add("tcp", "couchdb", 5984)
	add("tcp", "cassandra", 9042, 7000, 7001, 7199, 9160)
	add("tcp", "influxdb", 8086)
	add("tcp", "zookeeper", 2181)
	// Containers and control planes.
	add("tcp", "docker", 2375, 4243)
	add("tcp", "docker-tls", 2376)
	add("tcp", "etcd", 2379, 2380)
	add("tcp", "kube-apiserver", 6443)
	add("tcp", "kubelet", 10250)
	add("tcp", "kubelet-readonly", 10255)
	add("tcp", "kube-proxy", 10256)
	add("tcp", "kube-controller-manager", 10257)
	add("tcp", "kube-scheduler", 10259)
	add("tcp", "kubernetes-dashboard", 8001)
	add("tcp", "prometheus", 9090)
	add("tcp", "alertmanager", 9093)
	add("tcp", "node-exporter", 9100)
	// Remote desktop, RPC and file sharing.
	add("tcp", "rdp", 3389)
	add("udp", "rdp", 3389)
	span("tcp", "vnc", 5900, 5910)
	span("tcp", "x11", 6000, 6063)
	both("rpcbind", 111)
	both("nfs", 2049)
	add("tcp", "msrpc", 135)
	add("udp", "netbios-ns", 137)
	add("udp", "netbios-dgm", 138)
	add("tcp", "netbios-ssn", 139)
	add("tcp", "smb", 445)
	return m
}

// procInfo describes a known program: its enum value in facts, the service it provides,
// and whether that service holds on every port (exclusive) or only on ports the port table
// does not name (a fallback for daemons that serve several protocols).
type procInfo struct {
	enum      string
	service   string
	exclusive bool
}

// knownProcesses maps /proc/<pid>/comm names (at most 15 characters) to procInfo
// (immutable).
var knownProcesses = processTable()

// processTable builds knownProcesses.
func processTable() map[string]procInfo {
	m := map[string]procInfo{}
	excl := func(service string, comms ...string) {
		for _, c := range comms {
			m[c] = procInfo{enum: enumName(c), service: service, exclusive: true}
		}
	}
	fallback := func(service string, comms ...string) {
		for _, c := range comms {
			m[c] = procInfo{enum: enumName(c), service: service}
		}
	}
	excl("ssh", "sshd", "dropbear")
	fallback("http", "nginx", "apache2", "httpd", "caddy", "haproxy", "traefik", "envoy", "lighttpd")
	excl("mysql", "mysqld", "mariadbd")
	excl("postgresql", "postgres")
	excl("redis", "redis-server", "redis-sentinel")
	excl("memcached", "memcached")
	excl("mongodb", "mongod", "mongos")
	excl("influxdb", "influxd")
	excl("etcd", "etcd")
	excl("kube-apiserver", "kube-apiserver")
	fallback("kubelet", "kubelet")
	fallback("kube-proxy", "kube-proxy")
	fallback("kube-controller-manager", "kube-controller")
	fallback("kube-scheduler", "kube-scheduler")
	excl("docker", "dockerd")
	excl("containerd", "containerd")
	fallback("smtp", "exim4", "exim", "master", "sendmail", "opensmtpd", "smtpd")
	fallback("imap", "dovecot")
	excl("ftp", "vsftpd", "proftpd", "pure-ftpd")
	excl("telnet", "in.telnetd", "telnetd")
	excl("tftp", "in.tftpd")
	excl("rpcbind", "rpcbind")
	fallback("nfs", "rpc.statd", "rpc.mountd")
	fallback("smb", "smbd", "samba")
	fallback("netbios-ns", "nmbd")
	excl("rdp", "xrdp", "xrdp-sesman")
	fallback("vnc", "Xvnc", "Xtigervnc")
	excl("vnc", "x11vnc")
	excl("x11", "Xorg")
	fallback("dns", "named", "dnsmasq", "unbound", "systemd-resolve")
	excl("ipp", "cupsd")
	excl("mdns", "avahi-daemon")
	fallback("ldap", "slapd")
	fallback("squid", "squid")
	excl("rsync", "rsync")
	fallback("snmp", "snmpd")
	excl("snmptrap", "snmptrapd")
	fallback("ntp", "chronyd")
	excl("ntp", "ntpd")
	excl("dhcp-client", "dhclient")
	fallback("dhcp-client", "systemd-network")
	excl("dhcp", "dhcpd")
	excl("openvpn", "openvpn")
	excl("tailscale", "tailscaled")
	excl("node-exporter", "node_exporter")
	excl("prometheus", "prometheus")
	excl("alertmanager", "alertmanager")
	excl("grafana", "grafana", "grafana-server")
	excl("fastcgi", "php-fpm")
	fallback("mqtt", "mosquitto")
	excl("nats", "nats-server")
	excl("epmd", "epmd")
	// Programs that serve whatever they are given: the port decides.
	fallback("", "java", "beam.smp", "python3", "python", "node", "ruby", "perl", "php",
		"systemd", "inetd", "xinetd", "docker-proxy", "nc", "ncat", "socat")
	return m
}

// enumName turns a comm name into the form of an enum value: lower case, "_" as "-".
func enumName(comm string) string {
	return strings.ReplaceAll(strings.ToLower(comm), "_", "-")
}

// lookupProcess finds a comm name in knownProcesses. PHP-FPM pools carry the PHP version
// in their name ("php-fpm8.2").
func lookupProcess(comm string) (procInfo, bool) {
	if info, ok := knownProcesses[comm]; ok {
		return info, true
	}
	if strings.HasPrefix(comm, "php-fpm") {
		return knownProcesses["php-fpm"], true
	}
	return procInfo{}, false
}

// processEnum returns the fact value for a socket owner: a declared program name, "other",
// or procUnknown/procNone when there is no comm.
func processEnum(comm string, owner ownerState) string {
	switch owner {
	case ownerUnknown:
		return procUnknown
	case ownerNone:
		return procNone
	}
	if info, ok := lookupProcess(comm); ok {
		return info.enum
	}
	return procOther
}

// identifyService names the service on (proto, port) run by the program comm ("" when
// unknown): an exclusive program decides, then the port table, then a fallback program.
func identifyService(proto string, port int, comm string) string {
	info, known := lookupProcess(comm)
	if known && info.exclusive {
		return info.service
	}
	if s, ok := portServices[protoPort{proto, port}]; ok {
		return s
	}
	if known && info.service != "" {
		return info.service
	}
	return svcOther
}
