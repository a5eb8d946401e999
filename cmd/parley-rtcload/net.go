package main

import (
	"fmt"
	"net"
)

// freeUDPPort returns a port on 127.0.0.1 free for both UDP and TCP a
// moment ago (Parley's SIP listens on both).
func freeUDPPort() (int, error) {
	for range 20 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free SIP port: %w", err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("find a free SIP port: none free for both UDP and TCP after 20 tries")
}

// canBind checks that this machine answers on a loopback address.
func canBind(ip string) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return err
	}
	return l.Close()
}
