package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/ipam"
	"github.com/docker/go-plugins-helpers/volume"
	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// serve serves h on a unix socket in a fresh directory whose path is longer
// than a socket address holds when long is set, and returns the socket path.
func serve(t *testing.T, h http.Handler, long bool) string {
	t.Helper()
	srv := &http.Server{Handler: h}
	t.Cleanup(func() { srv.Close() })
	return serveWith(t, srv.Serve, long)
}

// serveWith runs serveFn (a go-plugins-helpers Handler's Serve, say) on the
// listener.
func serveWith(t *testing.T, serveFn func(net.Listener) error, long bool) string {
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
	go serveFn(l)
	t.Cleanup(func() { l.Close() })
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

// memVolumes is a correct in-memory volume driver; bug breaks one thing.
type memVolumes struct {
	mu   sync.Mutex
	vols map[string]bool
	bug  string
}

func (d *memVolumes) Create(r *volume.CreateRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.vols[r.Name] = true
	return nil
}

func (d *memVolumes) List() (*volume.ListResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*volume.Volume
	for n := range d.vols {
		out = append(out, &volume.Volume{Name: n, Mountpoint: "/data/" + n})
	}
	return &volume.ListResponse{Volumes: out}, nil
}

func (d *memVolumes) Get(r *volume.GetRequest) (*volume.GetResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.vols[r.Name] {
		if d.bug == "get-missing-ok" {
			return &volume.GetResponse{}, nil
		}
		return nil, errors.New("no such volume")
	}
	return &volume.GetResponse{Volume: &volume.Volume{Name: r.Name, Mountpoint: "/data/" + r.Name}}, nil
}

func (d *memVolumes) Remove(r *volume.RemoveRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.vols[r.Name] {
		return errors.New("no such volume")
	}
	delete(d.vols, r.Name)
	return nil
}

func (d *memVolumes) Path(r *volume.PathRequest) (*volume.PathResponse, error) {
	g, err := d.Get(&volume.GetRequest{Name: r.Name})
	if err != nil {
		return nil, err
	}
	return &volume.PathResponse{Mountpoint: g.Volume.Mountpoint}, nil
}

func (d *memVolumes) Mount(r *volume.MountRequest) (*volume.MountResponse, error) {
	g, err := d.Get(&volume.GetRequest{Name: r.Name})
	if err != nil {
		return nil, err
	}
	if g.Volume == nil {
		return &volume.MountResponse{}, nil
	}
	if d.bug == "relative-mountpoint" {
		return &volume.MountResponse{Mountpoint: "data/" + r.Name}, nil
	}
	return &volume.MountResponse{Mountpoint: g.Volume.Mountpoint}, nil
}

func (d *memVolumes) Unmount(*volume.UnmountRequest) error { return nil }

func (d *memVolumes) Capabilities() *volume.CapabilitiesResponse {
	return &volume.CapabilitiesResponse{Capabilities: volume.Capability{Scope: "local"}}
}

func failed(r *Report) []string {
	var out []string
	for _, c := range r.Checks {
		if !c.Pass && !c.Skipped {
			out = append(out, c.Method+": "+c.Name)
		}
	}
	return out
}

func TestVolumeProbes(t *testing.T) {
	tests := []struct {
		name string
		bug  string
		long bool
		want []string // failing checks
	}{
		{"correct driver", "", false, nil},
		{"correct driver, long socket path", "", true, nil},
		{"Get of a missing volume succeeds", "get-missing-ok", false, []string{
			"VolumeDriver.Get: Get of a missing volume fails in Err",
			"VolumeDriver.Get: Get of the removed volume fails in Err",
			"VolumeDriver.Mount: Mount of a missing volume fails in Err",
		}},
		{"relative mountpoint", "relative-mountpoint", false, []string{
			"VolumeDriver.Mount: Mount returns an absolute mountpoint",
			"VolumeDriver.Path: Path of a mounted volume is its mountpoint",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := volume.NewHandler(&memVolumes{vols: map[string]bool{}, bug: tt.bug})
			sock := serveWith(t, h.Serve, tt.long)
			r := Run(context.Background(), sock, []string{plugin.TypeVolume})
			if d := cmp.Diff(tt.want, failed(r)); d != "" {
				t.Errorf("failing checks (-want +got):\n%s\nreport: %+v", d, r.Checks)
			}
			if r.Failed() != len(tt.want) {
				t.Errorf("Failed() = %d, want %d", r.Failed(), len(tt.want))
			}
			if len(r.Checks) < 15 {
				t.Errorf("only %d checks ran", len(r.Checks))
			}
		})
	}
}

type memIPAM struct{}

func (memIPAM) GetCapabilities() (*ipam.CapabilitiesResponse, error) {
	return &ipam.CapabilitiesResponse{}, nil
}

func (memIPAM) GetDefaultAddressSpaces() (*ipam.AddressSpacesResponse, error) {
	return &ipam.AddressSpacesResponse{LocalDefaultAddressSpace: "l", GlobalDefaultAddressSpace: "g"}, nil
}

func (memIPAM) RequestPool(r *ipam.RequestPoolRequest) (*ipam.RequestPoolResponse, error) {
	if _, _, err := net.ParseCIDR(r.Pool); err != nil {
		return nil, err
	}
	return &ipam.RequestPoolResponse{PoolID: "p1", Pool: r.Pool}, nil
}

func (memIPAM) ReleasePool(*ipam.ReleasePoolRequest) error { return nil }

func (memIPAM) RequestAddress(*ipam.RequestAddressRequest) (*ipam.RequestAddressResponse, error) {
	return &ipam.RequestAddressResponse{Address: "172.31.251.2/24"}, nil
}

func (memIPAM) ReleaseAddress(*ipam.ReleaseAddressRequest) error { return nil }

func TestIPAMProbes(t *testing.T) {
	sock := serveWith(t, ipam.NewHandler(memIPAM{}).Serve, false)
	r := Run(context.Background(), sock, []string{plugin.TypeIPAM})
	if f := failed(r); len(f) > 0 {
		t.Errorf("failing checks: %v\n%+v", f, r.Checks)
	}
}

// fixed answers every method from a table; methods not in it get 404.
func fixed(answers map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != MediaType {
			http.Error(w, `{"Err":"wrong Accept"}`, http.StatusBadRequest)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(w, `{"Err":"bad request"}`)
			return
		}
		a, ok := answers[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, a)
	})
}

func TestOtherInterfaces(t *testing.T) {
	tests := []struct {
		name    string
		types   []string
		answers map[string]string
		want    []string
	}{
		{"network", []string{plugin.TypeNetwork}, map[string]string{
			"Plugin.Activate":               `{"Implements":["NetworkDriver"]}`,
			"NetworkDriver.GetCapabilities": `{"Scope":"local","ConnectivityScope":"global"}`,
			"NetworkDriver.CreateNetwork":   `{}`,
			"NetworkDriver.DeleteNetwork":   `{}`,
		}, nil},
		{"network with a bad scope and the wrong Implements", []string{plugin.TypeNetwork}, map[string]string{
			"Plugin.Activate":               `{"Implements":["VolumeDriver"]}`,
			"NetworkDriver.GetCapabilities": `{"Scope":"planet"}`,
			"NetworkDriver.CreateNetwork":   `{}`,
			"NetworkDriver.DeleteNetwork":   `{"Err":"boom"}`,
		}, []string{
			"Plugin.Activate: activation handshake lists the declared interfaces",
			"NetworkDriver.GetCapabilities: GetCapabilities answers a valid scope",
			"NetworkDriver.DeleteNetwork: DeleteNetwork succeeds",
		}},
		{"authz", []string{plugin.TypeAuthz}, map[string]string{
			"AuthZPlugin.AuthZReq": `{"Allow":true}`,
			"AuthZPlugin.AuthZRes": `{"Allow":false,"Msg":"no"}`,
		}, nil},
		{"authz without Allow", []string{plugin.TypeAuthz}, map[string]string{
			"AuthZPlugin.AuthZReq": `{}`,
			"AuthZPlugin.AuthZRes": `{"Allow":true}`,
		}, []string{"AuthZPlugin.AuthZReq: AuthZReq answers Allow"}},
		{"metrics", []string{plugin.TypeMetrics}, map[string]string{
			"MetricsCollector.StartMetrics": `{}`,
			"MetricsCollector.StopMetrics":  `{}`,
		}, nil},
		{"log driver without a rootfs", []string{plugin.TypeLog}, map[string]string{
			"LogDriver.Capabilities": `{"Cap":{"ReadLogs":true}}`,
		}, nil},
		{"csi has no probes", []string{plugin.TypeCSINode}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := serve(t, fixed(tt.answers), false)
			r := Run(context.Background(), sock, tt.types)
			if d := cmp.Diff(tt.want, failed(r)); d != "" {
				t.Errorf("failing checks (-want +got):\n%s\n%+v", d, r.Checks)
			}
		})
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
