package probe

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// serve serves h on a unix socket in a fresh directory whose path is longer
// than a socket address holds when long is set, and returns the socket path.
func serve(t *testing.T, h http.Handler, long bool) string {
	t.Helper()
	dir := t.TempDir()
	if long {
		dir = filepath.Join(dir, strings.Repeat("d", 100))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "p.sock")
	l, err := listenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// listenUnix listens at path, through /proc/self/fd when it is too long.
func listenUnix(path string) (net.Listener, error) {
	if len(path) <= maxSocketPath {
		return net.Listen("unix", path)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return net.Listen("unix", fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), filepath.Base(path)))
}

// verdicts maps "Method: Name" to the status of every check that did not
// pass.
func verdicts(r *Report) map[string]Status {
	out := map[string]Status{}
	for _, c := range r.Checks {
		if c.Status != StatusPass {
			out[c.Method+": "+c.Name] = c.Status
		}
	}
	return out
}

// checkReport fails t unless r's verdicts (see verdicts) are want and
// failed of its checks failed.
func checkReport(t *testing.T, r *Report, want map[string]Status, failed int) {
	t.Helper()
	if diff := cmp.Diff(want, verdicts(r)); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s\nreport: %+v", diff, r.Checks)
	}
	if r.Failed() != failed {
		t.Errorf("Failed() = %d, want %d (skipped and warnings are not failures)", r.Failed(), failed)
	}
}

// fake is a plugin server: handle answers one method's decoded request
// (the body is JSON; a body that is not JSON gets 400 and {"Err"} unless
// malformedOK). Unknown methods get 404.
type fake struct {
	malformedOK     bool
	malformedAnswer string // with malformedOK; default {}
	handle          func(method string, req map[string]any) (status int, answer any)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Accept") != MediaType {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, `{"Err":"wrong Accept"}`)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		if f.malformedOK {
			a := f.malformedAnswer
			if a == "" {
				a = `{}`
			}
			fmt.Fprintln(w, a)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, `{"Err":"bad request"}`)
		return
	}
	status, answer := f.handle(strings.TrimPrefix(r.URL.Path, "/"), req)
	if status == 0 {
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(status)
	if b, ok := answer.(rawBody); ok {
		_, _ = w.Write([]byte(b))
		return
	}
	if s, ok := answer.(string); ok {
		fmt.Fprintln(w, s)
		return
	}
	_ = json.NewEncoder(w).Encode(answer)
}

// rawBody is an answer written as it is.
type rawBody string

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// volumeDriver is an in-memory volume driver; bug breaks one rule.
type volumeDriver struct {
	mu      sync.Mutex
	vols    map[string]bool
	bug     string
	needOpt string // Create fails without this option
}

func (d *volumeDriver) handle(method string, req map[string]any) (int, any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	name := str(req, "Name")
	notFound := map[string]string{"Err": "no such volume " + name}
	vol := map[string]any{"Name": name, "Mountpoint": "/data/" + name}
	switch method {
	case "VolumeDriver.Capabilities":
		scope := "local"
		if d.bug == "bad-scope" {
			scope = "planet"
		}
		return 200, map[string]any{"Capabilities": map[string]string{"Scope": scope}}
	case "VolumeDriver.Create":
		if d.bug == "create-500" {
			return 500, "internal error"
		}
		if opts, _ := req["Opts"].(map[string]any); d.needOpt != "" && str(opts, d.needOpt) == "" {
			return 200, map[string]string{"Err": "option " + d.needOpt + " is required"}
		}
		d.vols[name] = true
		return 200, map[string]string{}
	case "VolumeDriver.Get":
		if !d.vols[name] && d.bug != "get-always" {
			if d.bug == "get-missing-null" {
				return 200, map[string]any{"Volume": nil}
			}
			return 200, notFound
		}
		return 200, map[string]any{"Volume": vol}
	case "VolumeDriver.List":
		var l []any
		for n := range d.vols {
			l = append(l, map[string]string{"Name": n, "Mountpoint": "/data/" + n})
		}
		return 200, map[string]any{"Volumes": l}
	case "VolumeDriver.Mount", "VolumeDriver.Path":
		if !d.vols[name] {
			return 200, notFound
		}
		if d.bug == "relative-mountpoint" {
			return 200, map[string]string{"Mountpoint": "data/" + name}
		}
		return 200, map[string]string{"Mountpoint": "/data/" + name}
	case "VolumeDriver.Unmount":
		if d.bug == "unmount-non200" {
			return 409, map[string]string{}
		}
		return 200, map[string]string{}
	case "VolumeDriver.Remove":
		if !d.vols[name] && d.bug != "idempotent-remove" {
			return 200, notFound
		}
		if d.bug != "remove-noop" {
			delete(d.vols, name)
		}
		return 200, map[string]string{}
	}
	return 0, nil
}

func TestVolumeProbes(t *testing.T) {
	const (
		getNew    = "VolumeDriver.Get: Get of a volume not yet created returns no volume"
		create    = "VolumeDriver.Create: Create succeeds"
		list      = "VolumeDriver.List: List includes the new volume"
		get       = "VolumeDriver.Get: Get returns the volume"
		mount     = "VolumeDriver.Mount: Mount returns an absolute mountpoint"
		path      = "VolumeDriver.Path: Path of a mounted volume is its mountpoint"
		unmount   = "VolumeDriver.Unmount: Unmount succeeds"
		remove    = "VolumeDriver.Remove: Remove succeeds"
		getGone   = "VolumeDriver.Get: Get of the removed volume returns no volume"
		listGone  = "VolumeDriver.List: List no longer includes it"
		caps      = "VolumeDriver.Capabilities: Capabilities answers a valid scope"
		malformed = "VolumeDriver.Create: a malformed request is refused"
	)
	afterCreate := map[string]Status{list: StatusSkip, get: StatusSkip, mount: StatusSkip, path: StatusSkip,
		unmount: StatusSkip, remove: StatusSkip, getGone: StatusSkip, listGone: StatusSkip}
	with := func(m map[string]Status, k string, s Status) map[string]Status {
		out := map[string]Status{k: s}
		for kk, v := range m {
			out[kk] = v
		}
		return out
	}
	tests := []struct {
		name        string
		bug         string
		needOpt     string
		malformedOK bool
		long        bool
		opts        []Option
		want        map[string]Status
		failed      int
	}{
		{name: "correct driver", want: map[string]Status{}},
		{name: "correct driver, long socket path", long: true, want: map[string]Status{}},
		{name: "Get of a missing volume answers a null Volume (dockerd: not found)", bug: "get-missing-null", want: map[string]Status{}},
		{name: "idempotent Remove is legitimate", bug: "idempotent-remove", want: map[string]Status{}},
		{name: "Get answers a volume for any name", bug: "get-always",
			want: map[string]Status{getNew: StatusFail, getGone: StatusWarn}, failed: 1},
		{name: "relative mountpoint", bug: "relative-mountpoint",
			want: map[string]Status{mount: StatusFail, path: StatusSkip, unmount: StatusSkip}, failed: 1},
		{name: "Create needs an option, none given", needOpt: "sshcmd",
			want: with(afterCreate, create, StatusFail), failed: 1},
		{name: "Create needs an option, given with --opt", needOpt: "sshcmd",
			opts: []Option{WithDriverOptions(map[string]string{"sshcmd": "u@h:/p"})}, want: map[string]Status{}},
		{name: "Create answers HTTP 500", bug: "create-500", want: with(afterCreate, create, StatusFail), failed: 1},
		{name: "Unmount answers HTTP 409 with an empty body", bug: "unmount-non200", want: map[string]Status{unmount: StatusFail}, failed: 1},
		{name: "Remove does nothing", bug: "remove-noop", want: map[string]Status{getGone: StatusWarn, listGone: StatusWarn}},
		{name: "bad scope", bug: "bad-scope", want: map[string]Status{caps: StatusWarn}},
		{name: "bad scope, strict", bug: "bad-scope", opts: []Option{WithStrict(true)}, want: map[string]Status{caps: StatusFail}, failed: 1},
		{name: "malformed request answered 200", malformedOK: true, want: map[string]Status{malformed: StatusWarn}},
		{name: "malformed request answered 200, strict", malformedOK: true, opts: []Option{WithStrict(true)},
			want: map[string]Status{malformed: StatusFail}, failed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &volumeDriver{vols: map[string]bool{}, bug: tt.bug, needOpt: tt.needOpt}
			sock := serve(t, &fake{malformedOK: tt.malformedOK, handle: d.handle}, tt.long)
			r := Run(context.Background(), sock, []string{plugin.TypeVolume}, tt.opts...)
			checkReport(t, r, tt.want, tt.failed)
			if len(r.Checks) != 13 {
				t.Errorf("%d checks ran, want 13", len(r.Checks))
			}
			for _, c := range r.Checks {
				if c.Kind != Required && c.Kind != Advisory {
					t.Errorf("check %q has kind %q", c.Name, c.Kind)
				}
				if c.Status == StatusSkip && !strings.Contains(c.Reason, "failed") {
					t.Errorf("skipped check %q does not name the failed step: %q", c.Name, c.Reason)
				}
			}
		})
	}
}

// TestSkipNamesTheCause: the checks after a failed Create say which step
// failed and why.
func TestSkipNamesTheCause(t *testing.T) {
	d := &volumeDriver{vols: map[string]bool{}, needOpt: "sshcmd"}
	r := Run(context.Background(), serve(t, &fake{handle: d.handle}, false), []string{plugin.TypeVolume})
	for _, c := range r.Checks {
		if c.Method == "VolumeDriver.Mount" {
			want := `skipped: "Create succeeds" failed: Err: option sshcmd is required`
			if !strings.HasPrefix(c.Reason, want) {
				t.Errorf("Mount reason = %q, want prefix %q", c.Reason, want)
			}
		}
		if c.Method == "VolumeDriver.Create" && c.Status == StatusFail && !strings.Contains(c.Reason, "--opt") {
			t.Errorf("Create's reason does not mention --opt: %q", c.Reason)
		}
	}
}

func TestReportCounts(t *testing.T) {
	r := &Report{Checks: []Check{{Status: StatusPass}, {Status: StatusSkip}, {Status: StatusSkip}, {Status: StatusWarn}, {Status: StatusFail}}}
	if r.Failed() != 1 || r.Skipped() != 2 || r.Warned() != 1 {
		t.Errorf("Failed %d Skipped %d Warned %d, want 1 2 1", r.Failed(), r.Skipped(), r.Warned())
	}
}

// ipamDriver is an IPAM driver; bug breaks one rule.
type ipamDriver struct {
	bug  string
	mu   sync.Mutex
	reqs []map[string]any // RequestPool and RequestAddress requests
}

func (d *ipamDriver) handle(method string, req map[string]any) (int, any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch method {
	case "IpamDriver.GetCapabilities":
		return 200, map[string]bool{}
	case "IpamDriver.GetDefaultAddressSpaces":
		if d.bug == "spaces-error" {
			return 200, map[string]string{"Error": "no spaces"}
		}
		return 200, map[string]string{"LocalDefaultAddressSpace": "l", "GlobalDefaultAddressSpace": "g"}
	case "IpamDriver.RequestPool":
		d.reqs = append(d.reqs, req)
		pool := str(req, "Pool")
		if pool == "" {
			if d.bug == "needs-explicit" {
				return 200, map[string]string{"Error": "this driver needs an explicit subnet"}
			}
			pool = "10.9.0.0/24"
		}
		switch d.bug {
		case "empty-poolid":
			return 200, map[string]any{"PoolID": "", "Pool": pool}
		case "bad-pool":
			return 200, map[string]any{"PoolID": "p1", "Pool": "10.9.0.0"}
		}
		return 200, map[string]any{"PoolID": "p1", "Pool": pool}
	case "IpamDriver.RequestAddress":
		d.reqs = append(d.reqs, req)
		addr := str(req, "Address")
		opts, _ := req["Options"].(map[string]any)
		gw := str(opts, "RequestAddressType") == "com.docker.network.gateway"
		switch {
		case d.bug == "no-address":
			return 200, map[string]string{}
		case addr == "" && gw:
			addr = "10.9.0.1"
		case addr == "" && d.bug == "needs-explicit":
			return 200, map[string]string{"Error": "this driver needs an explicit address"}
		case addr == "":
			addr = "10.9.0.2"
		}
		return 200, map[string]string{"Address": addr + "/24"}
	case "IpamDriver.ReleaseAddress", "IpamDriver.ReleasePool":
		if d.bug == "release-error" {
			return 500, map[string]string{"Err": "busy"}
		}
		return 200, map[string]string{}
	}
	return 0, nil
}

func TestIPAMProbes(t *testing.T) {
	const (
		spaces   = "IpamDriver.GetDefaultAddressSpaces: GetDefaultAddressSpaces answers"
		both     = "IpamDriver.GetDefaultAddressSpaces: GetDefaultAddressSpaces names both spaces"
		pool     = "IpamDriver.RequestPool: RequestPool returns a CIDR pool"
		poolID   = "IpamDriver.RequestPool: RequestPool returns a pool ID"
		gw       = "IpamDriver.RequestAddress: RequestAddress returns a gateway address"
		ep       = "IpamDriver.RequestAddress: RequestAddress returns an endpoint address"
		relAddr  = "IpamDriver.ReleaseAddress: ReleaseAddress succeeds"
		relPool  = "IpamDriver.ReleasePool: ReleasePool succeeds"
		explicit = "needs-explicit"
	)
	tests := []struct {
		name   string
		bug    string
		opts   []Option
		want   map[string]Status
		failed int
	}{
		{name: "correct driver", want: map[string]Status{}},
		{name: "empty PoolID", bug: "empty-poolid", want: map[string]Status{poolID: StatusWarn}},
		{name: "empty PoolID, strict", bug: "empty-poolid", opts: []Option{WithStrict(true)}, want: map[string]Status{poolID: StatusFail}, failed: 1},
		{name: "pool not in CIDR form", bug: "bad-pool", want: map[string]Status{pool: StatusFail, poolID: StatusSkip,
			gw: StatusSkip, ep: StatusSkip, relAddr: StatusSkip, relPool: StatusSkip}, failed: 1},
		{name: "no address returned", bug: "no-address", want: map[string]Status{gw: StatusFail, ep: StatusFail, relAddr: StatusSkip}, failed: 2},
		{name: "GetDefaultAddressSpaces fails", bug: "spaces-error", want: map[string]Status{spaces: StatusFail, both: StatusSkip,
			pool: StatusSkip, poolID: StatusSkip, gw: StatusSkip, ep: StatusSkip, relAddr: StatusSkip, relPool: StatusSkip}, failed: 1},
		{name: "release errors are advisory", bug: "release-error", want: map[string]Status{relAddr: StatusWarn, relPool: StatusWarn}},
		{name: "needs an explicit subnet and IP, none given", bug: explicit, want: map[string]Status{pool: StatusFail, poolID: StatusSkip,
			gw: StatusSkip, ep: StatusSkip, relAddr: StatusSkip, relPool: StatusSkip}, failed: 1},
		{name: "needs an explicit subnet and IP, given", bug: explicit,
			opts: []Option{WithIPAMSubnet("10.20.0.0/24"), WithIPAMAddress("10.20.0.5")}, want: map[string]Status{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &ipamDriver{bug: tt.bug}
			sock := serve(t, &fake{handle: d.handle}, false)
			r := Run(context.Background(), sock, []string{plugin.TypeIPAM}, tt.opts...)
			checkReport(t, r, tt.want, tt.failed)
		})
	}
	// The requests carry what the flags give, the way dockerd sends them.
	d := &ipamDriver{}
	sock := serve(t, &fake{handle: d.handle}, false)
	Run(context.Background(), sock, []string{plugin.TypeIPAM}, WithIPAMSubnet("10.20.0.0/24"), WithIPAMAddress("10.20.0.5"),
		WithDriverOptions(map[string]string{"k": "v"}))
	want := []map[string]any{
		{"AddressSpace": "l", "Pool": "10.20.0.0/24", "SubPool": "", "Options": map[string]any{"k": "v"}, "V6": false},
		{"PoolID": "p1", "Address": "", "Options": map[string]any{"RequestAddressType": "com.docker.network.gateway", "k": "v"}},
		{"PoolID": "p1", "Address": "10.20.0.5", "Options": map[string]any{}},
	}
	if diff := cmp.Diff(want, d.reqs); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// answers is a fake plugin answering every method from a table.
func answers(m map[string]string, malformedOK bool) *fake {
	return &fake{malformedOK: malformedOK, handle: func(method string, _ map[string]any) (int, any) {
		a, ok := m[method]
		if !ok {
			return 0, nil
		}
		if strings.HasPrefix(a, "500 ") {
			return 500, strings.TrimPrefix(a, "500 ")
		}
		return 200, a
	}}
}

func TestNetworkProbes(t *testing.T) {
	const (
		caps   = "NetworkDriver.GetCapabilities: GetCapabilities answers a valid Scope and ConnectivityScope"
		create = "NetworkDriver.CreateNetwork: CreateNetwork succeeds"
		del    = "NetworkDriver.DeleteNetwork: DeleteNetwork succeeds"
		mal    = "NetworkDriver.CreateNetwork: a malformed request is refused"
		act    = "Plugin.Activate: activation handshake lists the declared interfaces"
	)
	good := func(over map[string]string) map[string]string {
		m := map[string]string{
			"Plugin.Activate":               `{"Implements":["NetworkDriver"]}`,
			"NetworkDriver.GetCapabilities": `{"Scope":"local","ConnectivityScope":"global"}`,
			"NetworkDriver.CreateNetwork":   `{}`,
			"NetworkDriver.DeleteNetwork":   `{}`,
		}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name        string
		answers     map[string]string
		malformedOK bool
		want        map[string]Status
		failed      int
	}{
		{"correct driver", good(nil), false, map[string]Status{}, 0},
		{"empty ConnectivityScope", good(map[string]string{"NetworkDriver.GetCapabilities": `{"Scope":"global"}`}), false, map[string]Status{}, 0},
		{"bad Scope", good(map[string]string{"NetworkDriver.GetCapabilities": `{"Scope":"planet"}`}), false,
			map[string]Status{caps: StatusFail, create: StatusSkip, del: StatusSkip}, 1},
		{"bad ConnectivityScope", good(map[string]string{"NetworkDriver.GetCapabilities": `{"Scope":"local","ConnectivityScope":"planet"}`}), false,
			map[string]Status{caps: StatusFail, create: StatusSkip, del: StatusSkip}, 1},
		{"CreateNetwork answers HTTP 500", good(map[string]string{"NetworkDriver.CreateNetwork": `500 boom`}), false,
			map[string]Status{create: StatusFail, del: StatusSkip}, 1},
		{"DeleteNetwork answers Err", good(map[string]string{"NetworkDriver.DeleteNetwork": `{"Err":"boom"}`}), false,
			map[string]Status{del: StatusFail}, 1},
		{"wrong Implements is advisory", good(map[string]string{"Plugin.Activate": `{"Implements":["VolumeDriver"]}`}), false,
			map[string]Status{act: StatusWarn}, 0},
		{"malformed request answered 200", good(nil), true, map[string]Status{mal: StatusWarn}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), serve(t, answers(tt.answers, tt.malformedOK), false), []string{plugin.TypeNetwork})
			checkReport(t, r, tt.want, tt.failed)
		})
	}
}

func TestNetworkOptions(t *testing.T) {
	var got map[string]any
	f := &fake{handle: func(method string, req map[string]any) (int, any) {
		switch method {
		case "NetworkDriver.GetCapabilities":
			return 200, `{"Scope":"local"}`
		case "NetworkDriver.CreateNetwork":
			got = req
		}
		return 200, `{}`
	}}
	Run(context.Background(), serve(t, f, false), []string{plugin.TypeNetwork},
		WithDriverOptions(map[string]string{"bridge": "br0"}), WithIPAMSubnet("10.30.0.0/16"))
	opts, _ := got["Options"].(map[string]any)
	if d := cmp.Diff(map[string]any{"bridge": "br0"}, opts["com.docker.network.generic"]); d != "" {
		t.Errorf("generic options (-want +got):\n%s", d)
	}
	v4, _ := got["IPv4Data"].([]any)
	if len(v4) != 1 || v4[0].(map[string]any)["Pool"] != "10.30.0.0/16" || v4[0].(map[string]any)["Gateway"] != "10.30.0.1/16" {
		t.Errorf("IPv4Data = %v", got["IPv4Data"])
	}
}

// authzPolicy records what it is asked and allows what allow says.
type authzPolicy struct {
	mu     sync.Mutex
	allow  func(method, uri string) bool
	status int
	bodies map[string][]byte // RequestBody by URI
}

func (a *authzPolicy) handle(method string, req map[string]any) (int, any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if method != "AuthZPlugin.AuthZReq" && method != "AuthZPlugin.AuthZRes" {
		return 0, nil
	}
	if a.status != 0 {
		return a.status, map[string]string{"Err": "policy engine down"}
	}
	uri := str(req, "RequestUri")
	if b, ok := req["RequestBody"].(string); ok && method == "AuthZPlugin.AuthZReq" {
		var raw []byte
		_ = json.Unmarshal([]byte(`"`+b+`"`), &raw)
		a.bodies[uri] = raw
	}
	if a.allow(str(req, "RequestMethod"), uri) {
		return 200, map[string]any{"Allow": true}
	}
	return 200, map[string]any{"Allow": false, "Msg": "denied by policy"}
}

func TestAuthzProbes(t *testing.T) {
	const (
		pingReq   = "AuthZPlugin.AuthZReq: AuthZReq answers GET /_ping"
		pingRes   = "AuthZPlugin.AuthZRes: AuthZRes answers GET /_ping"
		createReq = "AuthZPlugin.AuthZReq: AuthZReq answers POST /containers/create"
		createRes = "AuthZPlugin.AuthZRes: AuthZRes answers POST /containers/create"
	)
	tests := []struct {
		name      string
		allow     func(method, uri string) bool
		status    int
		want      map[string]Status
		decisions map[string]string
		failed    int
	}{
		{"allow all", func(string, string) bool { return true }, 0, map[string]Status{},
			map[string]string{pingReq: "allow", pingRes: "allow", createReq: "allow", createRes: "allow"}, 0},
		{"deny by default", func(string, string) bool { return false }, 0,
			map[string]Status{pingRes: StatusSkip, createRes: StatusSkip},
			map[string]string{pingReq: "deny", createReq: "deny"}, 0},
		{"deny container create", func(m, _ string) bool { return m != "POST" }, 0, map[string]Status{createRes: StatusSkip},
			map[string]string{pingReq: "allow", pingRes: "allow", createReq: "deny"}, 0},
		{"non-200", func(string, string) bool { return true }, 500,
			map[string]Status{pingReq: StatusFail, pingRes: StatusSkip, createReq: StatusFail, createRes: StatusSkip},
			map[string]string{}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &authzPolicy{allow: tt.allow, status: tt.status, bodies: map[string][]byte{}}
			r := Run(context.Background(), serve(t, &fake{handle: a.handle}, false), []string{plugin.TypeAuthz})
			checkReport(t, r, tt.want, tt.failed)
			dec := map[string]string{}
			for _, c := range r.Checks {
				if c.Decision != "" {
					dec[c.Method+": "+c.Name] = c.Decision
				}
			}
			if d := cmp.Diff(tt.decisions, dec); d != "" {
				t.Errorf("decisions (-want +got):\n%s", d)
			}
			if tt.status != 0 {
				return
			}
			// The container create carries its JSON body, as dockerd sends it.
			var body struct{ Image string }
			for uri, b := range a.bodies {
				if strings.Contains(uri, "/containers/create") {
					_ = json.Unmarshal(b, &body)
				}
			}
			if body.Image != "busybox" {
				t.Errorf("container create body not sent: %q", a.bodies)
			}
		})
	}
}

// TestAuthzMalformed: for an authorization plugin a deny of a malformed
// request is a refusal; only an allow is worth a warning.
func TestAuthzMalformed(t *testing.T) {
	const mal = "AuthZPlugin.AuthZReq: a malformed request is refused"
	allow := &authzPolicy{allow: func(string, string) bool { return true }, bodies: map[string][]byte{}}
	for answer, want := range map[string]map[string]Status{
		`{"Allow":false,"Msg":"bad request"}`: {},
		`{}`:                                  {},
		`{"Allow":true}`:                      {mal: StatusWarn},
	} {
		f := &fake{malformedOK: true, malformedAnswer: answer, handle: allow.handle}
		r := Run(context.Background(), serve(t, f, false), []string{plugin.TypeAuthz})
		if d := cmp.Diff(want, verdicts(r)); d != "" {
			t.Errorf("malformed answered %s: verdicts (-want +got):\n%s", answer, d)
		}
	}
}

func TestMetricsProbes(t *testing.T) {
	tests := []struct {
		name    string
		answers map[string]string
		want    map[string]Status
	}{
		{"empty answers are fine", map[string]string{"MetricsCollector.StartMetrics": ``, "MetricsCollector.StopMetrics": ``}, map[string]Status{}},
		{"StartMetrics fails", map[string]string{"MetricsCollector.StartMetrics": `500 no`, "MetricsCollector.StopMetrics": `{}`},
			map[string]Status{"MetricsCollector.StartMetrics: StartMetrics succeeds": StatusFail,
				"MetricsCollector.StopMetrics: StopMetrics succeeds": StatusSkip}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), serve(t, answers(tt.answers, false), false), []string{plugin.TypeMetrics})
			if d := cmp.Diff(tt.want, verdicts(r)); d != "" {
				t.Errorf("verdicts (-want +got):\n%s\n%+v", d, r.Checks)
			}
		})
	}
}

// logDriver is an in-process log driver whose root is a directory: on
// StartLogging it opens root+File for reading blocking, as ordinary drivers
// do, and reads entries until StopLogging.
type logDriver struct {
	root     string
	noRead   bool
	readLogs string // ReadLogs' answer (capability off when "")
	mu       sync.Mutex
	files    map[string]*os.File
	lines    []string
	sources  []string    // each entry's source, in order
	times    []time.Time // each entry's time, in order
	readReq  map[string]any
	done     sync.WaitGroup
	started  []string
}

func (d *logDriver) handle(method string, req map[string]any) (int, any) {
	switch method {
	case "LogDriver.Capabilities":
		if d.readLogs != "" {
			return 200, `{"Cap":{"ReadLogs":true}}`
		}
		return 200, `{"Cap":{"ReadLogs":false}}`
	case "LogDriver.ReadLogs":
		d.mu.Lock()
		d.readReq = req
		d.mu.Unlock()
		return 200, rawBody(d.readLogs)
	case "LogDriver.StartLogging":
		file := str(req, "File")
		f, err := os.OpenFile(filepath.Join(d.root, file), os.O_RDONLY, 0) // blocks until a writer exists
		if err != nil {
			return 200, map[string]string{"Err": err.Error()}
		}
		d.mu.Lock()
		d.files[file] = f
		d.started = append(d.started, file)
		d.mu.Unlock()
		if !d.noRead {
			d.done.Add(1)
			go d.read(f)
		}
		return 200, `{}`
	case "LogDriver.StopLogging":
		d.mu.Lock()
		f := d.files[str(req, "File")]
		d.mu.Unlock()
		if f == nil {
			return 200, map[string]string{"Err": "not logging"}
		}
		f.Close()
		return 200, `{}`
	}
	return 0, nil
}

func (d *logDriver) read(f *os.File) {
	defer d.done.Done()
	for {
		var n uint32
		if err := binary.Read(f, binary.BigEndian, &n); err != nil {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(f, msg); err != nil {
			return
		}
		// field 1 (source) is first: tag 0x0a, length, bytes; then field
		// 2 (time_nano): tag 0x10, varint; field 3 (line) is last: tag
		// 0x1a, length, bytes.
		var src string
		var ts time.Time
		if len(msg) > 2 && msg[0] == 0x0a && 2+int(msg[1]) < len(msg) {
			src = string(msg[2 : 2+msg[1]])
			if rest := msg[2+msg[1]:]; rest[0] == 0x10 {
				if ns, n := binary.Uvarint(rest[1:]); n > 0 {
					ts = time.Unix(0, int64(ns))
				}
			}
		}
		if i := strings.LastIndexByte(string(msg), 0x1a); i >= 0 && i+2 <= len(msg) {
			d.mu.Lock()
			d.lines = append(d.lines, string(msg[i+2:]))
			d.sources = append(d.sources, src)
			d.times = append(d.times, ts)
			d.mu.Unlock()
		}
	}
}

func TestLogDriverProbes(t *testing.T) {
	const (
		fifo  = "(fifo): the log FIFO is made in the running plugin's root"
		start = "LogDriver.StartLogging: StartLogging succeeds"
		read  = "(fifo): the driver reads the log entries written to the FIFO"
		stop  = "LogDriver.StopLogging: StopLogging succeeds"
	)
	old := drainWait
	drainWait = 300 * time.Millisecond
	t.Cleanup(func() { drainWait = old })
	readLogs := "LogDriver.ReadLogs: ReadLogs answers a stream of log entries"
	entries := string(logEntry("stdout", []byte("a"), timeZero)) + string(logEntry("stderr", []byte("b"), timeZero))
	tests := []struct {
		name     string
		noRoot   bool
		noRead   bool
		readLogs string
		want     map[string]Status
		failed   int
	}{
		{"blocking reader", false, false, "", map[string]Status{}, 0},
		{"driver never reads", false, true, "", map[string]Status{read: StatusWarn}, 0},
		{"no root", true, false, "", map[string]Status{fifo: StatusSkip, start: StatusSkip, read: StatusSkip, stop: StatusSkip}, 0},
		{"ReadLogs streams entries", false, false, entries, map[string]Status{}, 0},
		{"ReadLogs truncated", false, false, entries[:len(entries)-1], map[string]Status{readLogs: StatusFail}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			d := &logDriver{root: root, noRead: tt.noRead, readLogs: tt.readLogs, files: map[string]*os.File{}}
			var opts []Option
			if !tt.noRoot {
				opts = append(opts, WithRootfs(root))
			}
			r := Run(context.Background(), serve(t, &fake{handle: d.handle}, false), []string{plugin.TypeLog}, opts...)
			checkReport(t, r, tt.want, tt.failed)
			d.done.Wait()
			if tt.noRoot {
				return
			}
			if len(d.started) != 1 || !strings.HasPrefix(d.started[0], loggingDir+"/") {
				t.Errorf("StartLogging files = %v, want one under %s", d.started, loggingDir)
			}
			if !tt.noRead {
				want := []string{"dplug probe line 1", "dplug probe line 2", "dplug probe line 3"}
				if diff := cmp.Diff(want, d.lines); diff != "" {
					t.Errorf("lines read (-want +got):\n%s", diff)
				}
				// The second line is the container's stderr, the others its
				// stdout; each entry is stamped 1 ms after the one before.
				if diff := cmp.Diff([]string{"stdout", "stderr", "stdout"}, d.sources); diff != "" {
					t.Errorf("sources (-want +got):\n%s", diff)
				}
				for i := 1; i < len(d.times); i++ {
					if got := d.times[i].Sub(d.times[i-1]); got != time.Millisecond {
						t.Errorf("entry %d is %v after entry %d, want 1ms", i, got, i-1)
					}
				}
			}
			if tt.readLogs != "" {
				// dockerd's `docker logs` without options: all entries, no follow.
				want := map[string]any{"Since": "0001-01-01T00:00:00Z", "Until": "0001-01-01T00:00:00Z", "Tail": float64(-1), "Follow": false}
				if diff := cmp.Diff(want, d.readReq["Config"]); diff != "" {
					t.Errorf("ReadLogs Config (-want +got):\n%s", diff)
				}
			}
			// The FIFO is gone again; only the directory dockerd makes stays.
			left, _ := os.ReadDir(filepath.Join(root, loggingDir))
			if len(left) != 0 {
				t.Errorf("left in %s: %v", loggingDir, left)
			}
		})
	}
}

// TestLogFIFOStaysInRoot: a root whose /run is a symlink out of it gets its
// FIFO inside the root, never at the symlink's host target.
func TestLogFIFOStaysInRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "run")); err != nil {
		t.Fatal(err)
	}
	f, err := makeFIFO(root, loggingDir+"/x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !strings.HasPrefix(f.path, root+"/") {
		t.Errorf("FIFO at %s, outside %s", f.path, root)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the root: %v", entries)
	}
}

func TestOtherTypes(t *testing.T) {
	r := Run(context.Background(), serve(t, answers(nil, false), false), []string{plugin.TypeCSINode})
	if r.Failed() != 0 || r.Skipped() != 1 {
		t.Errorf("csi: %+v", r.Checks)
	}
}

func TestMissingImplements(t *testing.T) {
	tests := []struct {
		types, impl, want []string
	}{
		{[]string{plugin.TypeVolume}, []string{"VolumeDriver"}, nil},
		{[]string{plugin.TypeVolume, plugin.TypeIPAM}, []string{"VolumeDriver"}, []string{"IpamDriver"}},
		{[]string{plugin.TypeAuthz, plugin.TypeLog, plugin.TypeMetrics}, []string{"authz", "LogDriver", "MetricsCollector"}, nil},
		{[]string{plugin.TypeNetwork}, []string{"VolumeDriver"}, []string{"NetworkDriver"}},
		{[]string{plugin.TypeCSINode}, nil, nil},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, MissingImplements(tt.types, tt.impl)); d != "" {
			t.Errorf("MissingImplements(%v, %v) (-want +got):\n%s", tt.types, tt.impl, d)
		}
	}
}

func TestLogEntryFraming(t *testing.T) {
	b := logEntry("stdout", []byte("hi"), timeZero)
	// length prefix, then field 1 "stdout", field 2 varint 0, field 3 "hi"
	want := []byte{0, 0, 0, 14, 0x0a, 6, 's', 't', 'd', 'o', 'u', 't', 0x10, 0, 0x1a, 2, 'h', 'i'}
	if d := cmp.Diff(want, b); d != "" {
		t.Errorf("logEntry (-want +got):\n%s", d)
	}
}

var timeZero = time.Unix(0, 0)
