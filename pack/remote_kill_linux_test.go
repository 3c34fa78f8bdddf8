package pack

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestTransportKeepAlive: registry connections send TCP keep-alive probes
// after 30 s of silence (not Go's 15 s default) and stay in the pool as
// long as with net/http's own default transport.
func TestTransportKeepAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr := newTransport(time.Second)
	// Pooled connections are dropped after net/http's default idle time.
	if def := http.DefaultTransport.(*http.Transport); tr.IdleConnTimeout != def.IdleConnTimeout || tr.MaxIdleConns != def.MaxIdleConns {
		t.Errorf("idle connections: %d for %v; want net/http's %d for %v", tr.MaxIdleConns, tr.IdleConnTimeout, def.MaxIdleConns, def.IdleConnTimeout)
	}
	c, err := tr.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ic, ok := c.(*idleConn)
	if !ok {
		t.Fatalf("dialed %T; want *idleConn", c)
	}
	raw, err := ic.Conn.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on, idle int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		if on, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE); serr == nil {
			idle, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
		}
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	if on != 1 || idle != 30 {
		t.Errorf("SO_KEEPALIVE %d, TCP_KEEPIDLE %d s; want 1, 30 s", on, idle)
	}
}
