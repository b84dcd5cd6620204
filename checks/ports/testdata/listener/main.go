// Command listener opens the sockets named on its command line and waits to be killed; the
// ports integration test runs it inside a network namespace. Arguments are KIND:ADDRESS:
//
//	tcp:0.0.0.0:15432  tcp6:[::]:18080  udp:10.1.2.3:10069  udp6:[::1]:10053
//	tcp6mapped:[::ffff:10.1.2.3]:13307   an AF_INET6 listener on an IPv4-mapped address
//	dial:127.0.0.1:16379                  a TCP client connection (an established socket)
//	udpclient:0.0.0.0:0                   an unconnected UDP socket on an ephemeral port
//
// It prints "ephemeral PORT" for each udpclient, then "ready", on standard output.
package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
)

func main() {
	var keep []any
	for _, arg := range os.Args[1:] {
		kind, addr, ok := strings.Cut(arg, ":")
		if !ok {
			fail("bad argument %q", arg)
		}
		switch kind {
		case "tcp", "tcp4", "tcp6":
			l, err := net.Listen(kind, addr)
			check(err)
			keep = append(keep, l)
		case "udp", "udp4", "udp6":
			c, err := net.ListenPacket(kind, addr)
			check(err)
			keep = append(keep, c)
		case "tcp6mapped":
			keep = append(keep, listenMapped(addr))
		case "dial":
			c, err := net.Dial("tcp", addr)
			check(err)
			keep = append(keep, c)
		case "udpclient":
			c, err := net.ListenPacket("udp4", addr)
			check(err)
			keep = append(keep, c)
			fmt.Printf("ephemeral %d\n", c.LocalAddr().(*net.UDPAddr).Port)
		default:
			fail("unknown kind %q", kind)
		}
	}
	fmt.Println("ready")
	select {}
}

// listenMapped listens on an IPv4-mapped IPv6 address with an AF_INET6 socket, which the
// net package would turn into an AF_INET one.
func listenMapped(addr string) int {
	ap, err := netip.ParseAddrPort(addr)
	check(err)
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM, 0)
	check(err)
	check(syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0))
	check(syscall.Bind(fd, &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}))
	check(syscall.Listen(fd, 16))
	return fd
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "listener: "+format+"\n", args...)
	os.Exit(1)
}
