package probe

// Tests written against the survivors of `make mutate` (issue 13): each
// pins a behaviour no other test looked at.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// reasons maps "Method: Name" to the reason of every check.
func reasons(r *Report) map[string]string {
	out := map[string]string{}
	for _, c := range r.Checks {
		out[c.Method+": "+c.Name] = c.Reason
	}
	return out
}

// TestAuthzResCarriesTheDaemonAnswer: AuthZRes carries the daemon's status
// and headers, and its body only when there is one (the ping has none),
// as dockerd's middleware sends them.
func TestAuthzResCarriesTheDaemonAnswer(t *testing.T) {
	var mu sync.Mutex
	res := map[string]map[string]any{} // AuthZRes requests by RequestMethod
	f := &fake{handle: func(method string, req map[string]any) (int, any) {
		switch method {
		case "AuthZPlugin.AuthZReq":
		case "AuthZPlugin.AuthZRes":
			mu.Lock()
			res[str(req, "RequestMethod")] = req
			mu.Unlock()
		default:
			return 0, nil
		}
		return 200, map[string]any{"Allow": true}
	}}
	r := Run(context.Background(), serve(t, f, false), []string{plugin.TypeAuthz})
	if r.Failed() != 0 {
		t.Fatalf("checks failed: %+v", r.Checks)
	}
	ping, create := res["GET"], res["POST"]
	if ping == nil || create == nil {
		t.Fatalf("AuthZRes requests: %v", res)
	}
	if b, ok := ping["ResponseBody"]; ok {
		t.Errorf("ping AuthZRes has ResponseBody %v, want none", b)
	}
	if ping["ResponseStatusCode"] != float64(200) || create["ResponseStatusCode"] != float64(201) {
		t.Errorf("ResponseStatusCode ping %v create %v, want 200 and 201", ping["ResponseStatusCode"], create["ResponseStatusCode"])
	}
	s, _ := create["ResponseBody"].(string)
	raw, err := base64.StdEncoding.DecodeString(s)
	var body struct{ Id string }
	if err != nil || json.Unmarshal(raw, &body) != nil || len(body.Id) != 64 {
		t.Errorf("create AuthZRes ResponseBody = %q (%v), want the base64 of {\"Id\": ...}", s, err)
	}
}

// TestAuthzReasons: what a failed or denied authz check says.
func TestAuthzReasons(t *testing.T) {
	const (
		pingReq = "AuthZPlugin.AuthZReq: AuthZReq answers GET /_ping"
		tail    = " (dockerd fails the API call with this error)"
	)
	tests := []struct {
		name, answer, want string
		decision           string
	}{
		{"non-200 with Err", `500 {"Err":"policy engine down"}`, "HTTP 500: policy engine down" + tail, ""},
		{"non-200 without Err", `500 engine down`, "HTTP 500: engine down" + tail, ""},
		{"deny with Msg", `{"Allow":false,"Msg":"no"}`, "denied: no", "deny"},
		{"deny with Err only", `{"Allow":false,"Err":"policy says no"}`, "denied: policy says no", "deny"},
		{"deny without a message", `{"Allow":false}`, "denied (no Msg)", "deny"},
		{"allow", `{"Allow":true}`, "allowed", "allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), serve(t, answers(map[string]string{
				"AuthZPlugin.AuthZReq": tt.answer, "AuthZPlugin.AuthZRes": tt.answer,
			}, false), false), []string{plugin.TypeAuthz})
			if got := reasons(r)[pingReq]; got != tt.want {
				t.Errorf("reason = %q, want %q", got, tt.want)
			}
			for _, c := range r.Checks {
				if c.Method+": "+c.Name == pingReq && c.Decision != tt.decision {
					t.Errorf("decision = %q, want %q", c.Decision, tt.decision)
				}
			}
		})
	}
}

// TestNon200Reason: a non-200 answer's reason quotes its Err when it has
// one, else the body.
func TestNon200Reason(t *testing.T) {
	const create = "NetworkDriver.CreateNetwork: CreateNetwork succeeds"
	for answer, want := range map[string]string{
		`500 {"Err":"boom"}`: "HTTP 500, Err: boom",
		`500 boom`:           "HTTP 500: boom",
	} {
		r := Run(context.Background(), serve(t, answers(map[string]string{
			"NetworkDriver.GetCapabilities": `{"Scope":"local"}`, "NetworkDriver.CreateNetwork": answer,
		}, false), false), []string{plugin.TypeNetwork}, WithDriverOptions(map[string]string{"k": "v"}))
		if got := reasons(r)[create]; got != want {
			t.Errorf("CreateNetwork answered %s: reason %q, want %q", answer, got, want)
		}
	}
}

// TestHints: a driver that refuses the probe's objects with an error
// message, when the user gave no option, gets a hint to pass one; not when
// the option was given, nor when the refusal is not an error message (a
// plain HTTP error is not about options).
func TestHints(t *testing.T) {
	const (
		netCreate = "NetworkDriver.CreateNetwork: CreateNetwork succeeds"
		pool      = "IpamDriver.RequestPool: RequestPool returns a CIDR pool"
		ep        = "IpamDriver.RequestAddress: RequestAddress returns an endpoint address"
	)
	ipam := func(pool, addr string) map[string]string {
		return map[string]string{
			"IpamDriver.GetCapabilities":         `{}`,
			"IpamDriver.GetDefaultAddressSpaces": `{"LocalDefaultAddressSpace":"l","GlobalDefaultAddressSpace":"g"}`,
			"IpamDriver.RequestPool":             pool,
			"IpamDriver.RequestAddress":          addr,
			"IpamDriver.ReleaseAddress":          `{}`,
			"IpamDriver.ReleasePool":             `{}`,
		}
	}
	network := func(create string) map[string]string {
		return map[string]string{"NetworkDriver.GetCapabilities": `{"Scope":"local"}`, "NetworkDriver.CreateNetwork": create,
			"NetworkDriver.DeleteNetwork": `{}`}
	}
	okPool := `{"PoolID":"p","Pool":"10.9.0.0/24"}`
	tests := []struct {
		name    string
		types   string
		answers map[string]string
		opts    []Option
		check   string
		hint    string // "" = no hint
	}{
		{"network refuses, no --opt", plugin.TypeNetwork, network(`{"Err":"needs br"}`), nil, netCreate, "--opt"},
		{"network refuses, --opt given", plugin.TypeNetwork, network(`{"Err":"needs br"}`),
			[]Option{WithDriverOptions(map[string]string{"br": "x"})}, netCreate, ""},
		{"network answers HTTP 500", plugin.TypeNetwork, network(`500 boom`), nil, netCreate, ""},
		{"pool refused, no subnet", plugin.TypeIPAM, ipam(`{"Error":"needs a subnet"}`, `{}`), nil, pool, "--ipam-subnet"},
		{"pool refused, subnet given", plugin.TypeIPAM, ipam(`{"Error":"not that one"}`, `{}`),
			[]Option{WithIPAMSubnet("10.1.0.0/16")}, pool, ""},
		{"pool answers HTTP 500", plugin.TypeIPAM, ipam(`500 boom`, `{}`), nil, pool, ""},
		{"address refused, no IP", plugin.TypeIPAM, ipam(okPool, `{"Error":"needs an address"}`), nil, ep, "--ipam-ip"},
		{"address refused, IP given", plugin.TypeIPAM, ipam(okPool, `{"Error":"taken"}`),
			[]Option{WithIPAMAddress("10.9.0.7")}, ep, ""},
		{"address answers HTTP 500", plugin.TypeIPAM, ipam(okPool, `500 boom`), nil, ep, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), serve(t, answers(tt.answers, false), false), []string{tt.types}, tt.opts...)
			got, ok := reasons(r)[tt.check]
			if !ok {
				t.Fatalf("no check %q in %+v", tt.check, r.Checks)
			}
			if tt.hint == "" && strings.Contains(got, "(if the driver needs") {
				t.Errorf("reason %q has a hint, want none", got)
			}
			if tt.hint != "" && !strings.Contains(got, tt.hint) {
				t.Errorf("reason %q does not mention %s", got, tt.hint)
			}
		})
	}
}

// TestReleaseAddressIsBare: ReleaseAddress gets the address without its
// prefix length, as dockerd sends it (RequestAddress answered a CIDR).
func TestReleaseAddressIsBare(t *testing.T) {
	var mu sync.Mutex
	var released []string
	f := &fake{handle: func(method string, req map[string]any) (int, any) {
		switch method {
		case "IpamDriver.GetDefaultAddressSpaces":
			return 200, `{"LocalDefaultAddressSpace":"l","GlobalDefaultAddressSpace":"g"}`
		case "IpamDriver.RequestPool":
			return 200, `{"PoolID":"p","Pool":"10.9.0.0/24"}`
		case "IpamDriver.RequestAddress":
			if str(req, "Address") == "" {
				return 200, `{"Address":"10.9.0.1/24"}`
			}
			return 200, fmt.Sprintf(`{"Address":"%s/24"}`, str(req, "Address"))
		case "IpamDriver.ReleaseAddress":
			mu.Lock()
			released = append(released, str(req, "Address"))
			mu.Unlock()
		}
		return 200, `{}`
	}}
	Run(context.Background(), serve(t, f, false), []string{plugin.TypeIPAM}, WithIPAMAddress("10.9.0.5"))
	if d := cmp.Diff([]string{"10.9.0.5", "10.9.0.1"}, released); d != "" {
		t.Errorf("ReleaseAddress addresses (-want +got):\n%s", d)
	}
}

// TestClientDefaultTimeout: a client made without options (Activate's)
// gives up on a call after 10 s, as documented.
func TestClientDefaultTimeout(t *testing.T) {
	if got := NewClient("/nonexistent").hc.Timeout; got != 10*time.Second {
		t.Errorf("default timeout %v, want 10s", got)
	}
	if got := NewClient("/nonexistent", WithHTTPTimeout(time.Second)).hc.Timeout; got != time.Second {
		t.Errorf("WithHTTPTimeout(1s): timeout %v", got)
	}
}

func TestSnippet(t *testing.T) {
	s200 := strings.Repeat("a", 200)
	tests := []struct{ in, want string }{
		{"  {}\n", "{}"},
		{s200, s200},
		{s200 + "b", s200 + "…"},
	}
	for _, tt := range tests {
		if got := snippet([]byte(tt.in)); got != tt.want {
			t.Errorf("snippet(%d bytes) = %q, want %q", len(tt.in), got, tt.want)
		}
	}
}

// TestDialLongestDirectPath: a path of exactly the longest length a socket
// address holds is dialed as it is, not through its directory's
// descriptor (the error is the dialer's, naming the path).
func TestDialLongestDirectPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nodir", strings.Repeat("s", maxSocketPath-len(dir)-len("/nodir/")))
	if len(p) != maxSocketPath {
		t.Fatalf("path length %d", len(p))
	}
	_, err := Dial(context.Background(), p)
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("Dial(%d-byte path) = %v, want a *net.OpError from dialing it directly", len(p), err)
	}
}

// TestDialShortNameLimit: a long path whose /proc/self/fd/N/<name> form
// is exactly the longest a socket address holds is still dialed.
func TestDialShortNameLimit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The descriptor Dial gets for dir is the lowest free one: the one
	// this test gets just before (nothing else opens files meanwhile).
	// Listen on sockets for every plausible width of N first.
	for n := 1; n <= 5; n++ {
		l, err := listenUnix(filepath.Join(dir, strings.Repeat("s", maxSocketPath-len("/proc/self/fd//")-n)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	}
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fd := d.Fd()
	d.Close()
	prefix := fmt.Sprintf("/proc/self/fd/%d/", fd)
	sock := filepath.Join(dir, strings.Repeat("s", maxSocketPath-len(prefix)))
	c, err := Dial(context.Background(), sock)
	if err != nil {
		t.Fatalf("Dial with a %d-byte /proc name: %v", maxSocketPath, err)
	}
	c.Close()
}

// TestLogDrainReturnsOnceRead: the probe stops waiting as soon as the
// driver has read every entry, not at the end of drainWait.
func TestLogDrainReturnsOnceRead(t *testing.T) {
	old := drainWait
	drainWait = time.Minute
	t.Cleanup(func() { drainWait = old })
	root := t.TempDir()
	d := &logDriver{root: root, files: map[string]*os.File{}}
	r := Run(context.Background(), serve(t, &fake{handle: d.handle}, false), []string{plugin.TypeLog}, WithRootfs(root))
	d.done.Wait()
	for _, c := range r.Checks {
		if c.Method == "(fifo)" && strings.Contains(c.Name, "reads") {
			if c.Status != StatusPass || c.Duration > drainWait/2 {
				t.Errorf("drain check %s after %v, want PASS well before %v", c.Status, c.Duration, drainWait)
			}
			return
		}
	}
	t.Errorf("no drain check in %+v", r.Checks)
}

func TestCheckFrames(t *testing.T) {
	one := logEntry("stdout", []byte("a"), timeZero)
	tests := []struct {
		name string
		in   []byte
		want string // "" = valid
	}{
		{"empty stream", nil, ""},
		{"one entry", one, ""},
		{"an empty entry", []byte{0, 0, 0, 0}, ""},
		{"short prefix", one[:3], "entry 0: 3 bytes left, a length prefix takes 4"},
		{"second entry truncated", append(append([]byte{}, one...), 0, 0, 0, 5, 1, 2), "entry 1: length 5 but only 2 bytes follow"},
		{"third prefix short", append(append(append([]byte{}, one...), one...), 0), "entry 2: 1 bytes left, a length prefix takes 4"},
	}
	for _, tt := range tests {
		err := checkFrames(tt.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: checkFrames = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRunDefaultCallTimeout: without WithCallTimeout, Run gives up on a call
// the driver never answers after 10 s, as documented, and goes on with the
// next checks (a call with no bound would hang the probe for ever).
func TestRunDefaultCallTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 10 s default call timeout")
	}
	t.Parallel()
	release := make(chan struct{})
	f := &fake{handle: func(method string, _ map[string]any) (int, any) {
		if method == "VolumeDriver.Capabilities" {
			<-release
		}
		return 0, nil
	}}
	sock := serve(t, f, false)
	t.Cleanup(func() { close(release) })
	done := make(chan *Report, 1)
	begin := time.Now()
	go func() { done <- Run(context.Background(), sock, []string{plugin.TypeVolume}) }()
	var r *Report
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not give up on a call the driver never answers within 60 s")
	}
	if d := time.Since(begin); d < 10*time.Second {
		t.Errorf("Run gave up after %v, before the 10 s default", d)
	}
	const capsCheck = "VolumeDriver.Capabilities: Capabilities answers a valid scope"
	if got := reasons(r)[capsCheck]; !strings.Contains(got, "Timeout") && !strings.Contains(got, "timed out") {
		t.Errorf("%s: reason %q, want the timeout", capsCheck, got)
	}
}
