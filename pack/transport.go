package pack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// DefaultTimeout bounds each network wait of a registry operation (see
// WithTimeout).
const DefaultTimeout = 30 * time.Second

// TimeoutEnv names the variable that overrides DefaultTimeout.
const TimeoutEnv = "DPLUG_TIMEOUT"

// TimeoutFromEnv is the timeout TimeoutEnv sets, DefaultTimeout when it is
// unset; a value that is not a positive duration is an error (and
// DefaultTimeout).
func TimeoutFromEnv() (time.Duration, error) {
	v := os.Getenv(TimeoutEnv)
	if v == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return DefaultTimeout, fmt.Errorf("invalid %s %q: want a positive duration like 30s or 2m", TimeoutEnv, v)
	}
	return d, nil
}

// maxRedirects is how many redirects one request may follow, like
// net/http's default client (go-containerregistry's own clients set no
// limit for same-host redirects).
const maxRedirects = 10

// newTransport returns the HTTP transport every registry request goes
// through — the registry API, the token server and blob transfers — with
// each wait bounded by timeout: dialing, the TLS handshake, waiting for
// response headers, and any silence of the connection while a body is
// read or written (an idle timeout, not a total deadline: a big layer
// takes as long as it needs while bytes flow).
func newTransport(timeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, timeout: timeout, addr: addr}, nil
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ExpectContinueTimeout: time.Second,
		// No ResponseHeaderTimeout: its clock starts when the request
		// body is in the kernel's send buffer, which after an upload can
		// hold megabytes a slow link needs minutes to deliver. The
		// idle read of idleConn bounds the wait for headers instead,
		// counting the registry's acknowledgements of the upload as
		// progress.
	}
}

// idleConn fails a read or write after timeout without progress. Writing
// also pushes the read deadline back: net/http keeps a read pending while
// it uploads a request body, and an upload that flows is not silence.
// Once a read has timed out, reads keep failing, so draining a body after
// the error does not wait a second time.
type idleConn struct {
	net.Conn
	timeout time.Duration
	addr    string

	mu     sync.Mutex
	err    error
	queued int // bytes in the send queue at the last look, -1 unknown
}

func (c *idleConn) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *idleConn) fail(err error) error {
	if !isTimeout(err) {
		return err
	}
	te := &idleTimeoutError{addr: c.addr, op: "from", d: c.timeout}
	c.mu.Lock()
	c.err = te
	c.mu.Unlock()
	return te
}

func (c *idleConn) Read(b []byte) (int, error) {
	if err := c.failed(); err != nil {
		return 0, err
	}
	for {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		n, err := c.Conn.Read(b)
		if err != nil && n == 0 && isTimeout(err) && c.sending() {
			continue // the registry is still taking in what we sent
		}
		if err != nil {
			err = c.fail(err)
		}
		return n, err
	}
}

// sending reports whether the kernel's send queue shrank since the last
// look: the registry acknowledges what we sent, so a silent read is the
// registry still receiving an upload, not a stall.
func (c *idleConn) sending() bool {
	q := sendQueue(c.Conn)
	c.mu.Lock()
	defer c.mu.Unlock()
	progress := q >= 0 && q < c.queued
	c.queued = q
	return progress
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Write does not check the sticky read error: a pooled connection that
// timed out while idle is closed by net/http, and a request raced onto it
// must fail as "nothing written" (which net/http and pack retry), not as
// a timeout.
func (c *idleConn) Write(b []byte) (int, error) {
	dl := time.Now().Add(c.timeout)
	_ = c.Conn.SetWriteDeadline(dl)
	_ = c.Conn.SetReadDeadline(dl)
	n, err := c.Conn.Write(b)
	if err != nil && isTimeout(err) {
		err = &idleTimeoutError{addr: c.addr, op: "to", d: c.timeout}
	}
	q := sendQueue(c.Conn)
	c.mu.Lock()
	c.queued = q
	c.mu.Unlock()
	return n, err
}

// idleTimeoutError is a connection that moved no byte for the timeout.
type idleTimeoutError struct {
	addr string
	op   string // "from" (reading) or "to" (writing)
	d    time.Duration
}

func (e *idleTimeoutError) Error() string {
	return fmt.Sprintf("no data %s %s for %s", e.op, e.addr, e.d)
}

// Timeout and Temporary make it a net.Error like the deadline error it
// replaces.
func (e *idleTimeoutError) Timeout() bool   { return true }
func (e *idleTimeoutError) Temporary() bool { return true }

// redirectLimit refuses the request after maxRedirects redirects. It sits
// under every http.Client dplug or go-containerregistry builds: the
// client marks a redirected request with the response that caused it
// (Request.Response), so the chain length is known here.
type redirectLimit struct{ inner http.RoundTripper }

func (l redirectLimit) RoundTrip(r *http.Request) (*http.Response, error) {
	n := 0
	for p := r; p.Response != nil && p.Response.Request != nil && n < maxRedirects; p = p.Response.Request {
		n++
	}
	if n >= maxRedirects {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("%w: stopped after %d redirects (last to %s); the registry redirects in a loop",
			ErrTooManyRedirects, maxRedirects, r.URL.Redacted())
	}
	return l.inner.RoundTrip(r)
}
