//go:build linux

package pack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
)

// interopDir is a volplug plugin directory with a few more kinds of entry
// (nested dirs, a symlink, a hard link, odd modes) for round-trip checks.
func interopDir(t *testing.T) string {
	t.Helper()
	cfg := testplugin.Config()
	dir := testplugin.Dir(t, &cfg)
	// The same config again, and more entries in the rootfs.
	if err := testplugin.WriteTo(dir, &cfg, map[string]testplugin.File{
		"etc/volplug/conf": {Body: "answer=42\n"},
		"usr/share/doc/x":  {Body: strings.Repeat("doc ", 500), Mode: 0o600},
		"etc/link":         {Symlink: "../volplug"},
		"etc/conf.hard":    {Link: "etc/volplug/conf"},
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// faultProxy is a loopback reverse proxy in front of a real registry that
// counts upload requests and can inject faults.
type faultProxy struct {
	Host string

	mu      sync.Mutex
	uploads int
	fault   func(w http.ResponseWriter, r *http.Request) bool // true: handled
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	u, _ := url.Parse("http://" + target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	p := &faultProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if strings.Contains(r.URL.Path, "/blobs/uploads/") && r.Method != http.MethodGet && r.Method != http.MethodHead {
			p.uploads++
		}
		fault := p.fault
		p.mu.Unlock()
		if fault != nil && fault(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.Host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

func (p *faultProxy) setFault(f func(http.ResponseWriter, *http.Request) bool) {
	p.mu.Lock()
	p.fault = f
	p.mu.Unlock()
}

func (p *faultProxy) uploadCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.uploads
}

// resetConn answers by resetting the TCP connection (RST, not FIN).
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// (a) dplug push -> docker plugin install -> enable -> volume create.
func TestInteropDplugPushDockerInstall(t *testing.T) {
	testenv.RequireRoot(t)
	reg := testenv.StartRegistry(t)
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) { interopDplugPushDockerInstall(t, e, reg) })
}

func interopDplugPushDockerInstall(t *testing.T, e testenv.Engine, reg *testenv.Registry) {
	ctx := context.Background()
	d := testenv.StartDockerdEngine(t, e)
	dir := interopDir(t)
	// A file of 3 MiB and a bit: the layer is several gzip members (one
	// per 1 MiB block), which dockerd must read as one stream.
	var big strings.Builder
	for i := 0; big.Len() < 3<<20+5; i++ {
		fmt.Fprintf(&big, "line %d of a file spanning several blocks\n", i*i%7919)
	}
	writeFiles(t, filepath.Join(dir, "rootfs"), map[string]string{"usr/share/big": big.String()})
	ref := reg.Host + "/dplug/volplug-" + e.Name + ":1.0"
	dg, err := Push(ctx, mustImage(t, dir), ref, anon)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pushed %s@%s", ref, dg)

	alias := "dplugtest/volplug:latest"
	d.MustDocker(t, "plugin", "install", "--grant-all-permissions", "--disable", "--alias", alias, ref)
	d.MustDocker(t, "plugin", "enable", alias)
	d.MustDocker(t, "volume", "create", "-d", alias, "interop-vol")
	out := d.MustDocker(t, "volume", "ls", "--format", "{{.Driver}} {{.Name}}")
	if !strings.Contains(out, alias+" interop-vol") {
		t.Errorf("docker volume ls = %q; want the volume from %s", out, alias)
	}
	// dockerd kept the config as we wrote it.
	out = d.MustDocker(t, "plugin", "inspect", "--format", "{{json .Config}}", alias)
	var got plugin.Config
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := testplugin.Config()
	if diff := cmp.Diff(want.Entrypoint, got.Entrypoint); diff != "" {
		t.Errorf("installed entrypoint (-want +got):\n%s", diff)
	}
	if got.Rootfs == nil || len(got.Rootfs.DiffIDs) != 1 {
		t.Errorf("installed rootfs = %+v; want one diff_id", got.Rootfs)
	}
	d.MustDocker(t, "volume", "rm", "interop-vol")
	d.MustDocker(t, "plugin", "disable", alias)
	id := strings.TrimSpace(d.MustDocker(t, "plugin", "inspect", "--format", "{{.Id}}", alias))
	if data, err := os.ReadFile(filepath.Join(d.DataRoot, "plugins", id, "rootfs", "usr/share/big")); err != nil || string(data) != big.String() {
		t.Errorf("dockerd extracted the multi-member layer's big file: %d bytes of %d, %v", len(data), big.Len(), err)
	}

	// The layer options still give an artifact dockerd installs: stored
	// (level 0) gzip, original times and owners.
	ref2 := reg.Host + "/dplug/volplug-" + e.Name + ":stored"
	writeFiles(t, filepath.Join(dir, "rootfs"), map[string]string{"variant": "stored"})
	if _, err := Push(ctx, mustImage(t, dir, WithCompressionLevel(0), WithPreserveTimes(true)), ref2, anon); err != nil {
		t.Fatal(err)
	}
	d.MustDocker(t, "plugin", "install", "--grant-all-permissions", "--alias", "dplugtest/stored:latest", ref2)
	d.MustDocker(t, "plugin", "disable", "dplugtest/stored:latest")
}

// (b) docker plugin create + push -> dplug pull reproduces config and rootfs,
// and the artifact dockerd wrote serialises exactly like ours.
func TestInteropDockerPushDplugPull(t *testing.T) {
	testenv.RequireRoot(t)
	reg := testenv.StartRegistry(t)
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) { interopDockerPushDplugPull(t, e, reg) })
}

func interopDockerPushDplugPull(t *testing.T, e testenv.Engine, reg *testenv.Registry) {
	ctx := context.Background()
	d := testenv.StartDockerdEngine(t, e)
	dir := interopDir(t)
	// A config in lower-case keys with HTML characters, null and empty
	// values: dockerd normalises it, and dplug must produce the same bytes.
	writeFiles(t, dir, map[string]string{"config.json": `{
  "description": "volplug <&> test", "documentation": "https://example.invalid/volplug",
  "entrypoint": ["/volplug", "volplug"],
  "interface": {"types": ["docker.volumedriver/1.0"], "socket": "volplug.sock"},
  "network": {"type": "host"}, "propagatedMount": "/data",
  "linux": {"capabilities": ["CAP_SYS_ADMIN"]},
  "env": [{"name": "DEBUG", "settable": ["value"], "value": "0", "description": "debug"},
          {"name": "NOVAL", "description": "no value"}],
  "args": {"name": "args", "description": "extra", "settable": ["value"], "value": []}
}`})
	ref := reg.Host + "/docker/volplug-" + e.Name + ":1.0"
	d.MustDocker(t, "plugin", "create", ref, dir)
	d.MustDocker(t, "plugin", "push", ref)

	p, err := Fetch(ctx, ref, anon)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := p.ConfigJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Byte compatibility with the live daemon: config and manifest.
	cfg, err := plugin.Parse(blob)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := cfg.Marshal()
	if diff := cmp.Diff(string(blob), string(again)); diff != "" {
		t.Errorf("dockerd's config blob re-serialised differently (-dockerd +dplug):\n%s", diff)
	}
	// Same config.json through dplug: the same bytes but for the
	// DockerVersion stamp and diff_ids (20.10 writes the compressed digest;
	// dplug the uncompressed one, which every engine accepts).
	img := mustImage(t, dir)
	ourBlob, _ := img.RawConfigFile()
	theirs := regexp.MustCompile(`"DockerVersion":"[^"]*",`).ReplaceAllString(string(blob), "")
	theirs = regexp.MustCompile(`"diff_ids":\["[^"]*"\]`).ReplaceAllString(theirs, `"diff_ids":["X"]`)
	ours := regexp.MustCompile(`"diff_ids":\["[^"]*"\]`).ReplaceAllString(string(ourBlob), `"diff_ids":["X"]`)
	if diff := cmp.Diff(theirs, ours); diff != "" {
		t.Errorf("config blob for the same config.json (-dockerd +dplug):\n%s", diff)
	}

	m := p.Manifest()
	var layers []descriptor
	for _, l := range m.Layers {
		layers = append(layers, descriptor{MediaType: l.MediaType, Digest: l.Digest.String(), Size: l.Size})
	}
	ourM, _ := marshalManifest(descriptor{MediaType: m.Config.MediaType, Digest: m.Config.Digest.String(), Size: m.Config.Size}, layers)
	if h, _, _ := v1.SHA256(bytes.NewReader(ourM)); h.String() != p.Digest() {
		t.Errorf("dockerd's manifest (%s) does not re-serialise to the same bytes (%s): %s", p.Digest(), h, ourM)
	}

	out := filepath.Join(t.TempDir(), "pulled")
	if err := Unpack(ctx, p, out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(treeOf(t, filepath.Join(dir, "rootfs")), treeOf(t, filepath.Join(out, "rootfs"))); diff != "" {
		t.Errorf("pulled rootfs (-docker plugin create dir +dplug pull):\n%s", diff)
	}
	orig, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	want, _ := plugin.Parse(orig)
	data, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := plugin.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	got.DockerVersion = "" // dockerd stamps its version
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pulled config.json (-want +got):\n%s", diff)
	}

	// And the pulled directory is a plugin dockerd accepts again (after
	// removing the original: dockerd refuses to store identical rootfs
	// content twice).
	d.MustDocker(t, "plugin", "rm", ref)
	d.MustDocker(t, "plugin", "create", "dplugtest/repulled:latest", out)
	d.MustDocker(t, "plugin", "enable", "dplugtest/repulled:latest")
	d.MustDocker(t, "plugin", "disable", "dplugtest/repulled:latest")
}

// (c) a second push of the same plugin uploads no blob; plus registry
// faults: 500 and reset on upload (retried), wrong digest on pull (refused,
// nothing left behind).
func TestInteropRegistryFaults(t *testing.T) {
	testenv.RequireRoot(t)
	ctx := context.Background()
	reg := testenv.StartRegistry(t)
	proxy := newFaultProxy(t, reg.Host)
	dir := interopDir(t)

	t.Run("push twice uploads nothing", func(t *testing.T) {
		if _, err := Push(ctx, mustImage(t, dir), proxy.Host+"/twice/p:1", anon); err != nil {
			t.Fatal(err)
		}
		if proxy.uploadCount() == 0 {
			t.Fatal("first push uploaded nothing")
		}
		before := proxy.uploadCount()
		if _, err := Push(ctx, mustImage(t, dir), proxy.Host+"/twice/p:2", anon); err != nil {
			t.Fatal(err)
		}
		if n := proxy.uploadCount() - before; n != 0 {
			t.Errorf("second push made %d upload requests; want 0", n)
		}
	})

	t.Run("cross-repository mount", func(t *testing.T) {
		var mounts, streamed atomic.Int32
		proxy.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPost && r.URL.Query().Get("mount") != "" {
				mounts.Add(1)
			}
			if r.Method == http.MethodPatch || (r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/")) {
				streamed.Add(1)
			}
			return false
		})
		defer proxy.setFault(nil)
		dg, err := Push(ctx, mustImage(t, dir), proxy.Host+"/other/p:1", anon, WithMountFrom("elsewhere.example/x:1", proxy.Host+"/twice/p:1"))
		if err != nil {
			t.Fatal(err)
		}
		if mounts.Load() == 0 || streamed.Load() != 0 {
			t.Errorf("push with WithMountFrom: %d mount requests, %d blob uploads; want mounts and no upload", mounts.Load(), streamed.Load())
		}
		// The mounted artifact is complete.
		out := filepath.Join(t.TempDir(), "out")
		if err := Pull(ctx, reg.Host+"/other/p:1", out, anon); err != nil {
			t.Fatal(err)
		}
		if p, err := Fetch(ctx, reg.Host+"/other/p:1", anon); err != nil || p.Digest() != dg {
			t.Errorf("Fetch = %v, %v; want %s", p, err, dg)
		}
	})

	tests := []struct {
		name  string
		fault func(hit *atomic.Int32) func(http.ResponseWriter, *http.Request) bool
	}{
		{"500 on upload", func(hit *atomic.Int32) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPatch && hit.CompareAndSwap(0, 1) {
					io.Copy(io.Discard, r.Body)
					http.Error(w, "injected", http.StatusInternalServerError)
					return true
				}
				return false
			}
		}},
		{"reset on upload", func(hit *atomic.Int32) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPatch && hit.CompareAndSwap(0, 1) {
					io.CopyN(io.Discard, r.Body, 4096) // mid-upload
					resetConn(w)
					return true
				}
				return false
			}
		}},
		{"500 on manifest put", func(hit *atomic.Int32) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && hit.CompareAndSwap(0, 1) {
					http.Error(w, "injected", http.StatusServiceUnavailable)
					return true
				}
				return false
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A distinct rootfs each time, so the blobs are new to the registry.
			d := interopDir(t)
			writeFiles(t, filepath.Join(d, "rootfs"), map[string]string{"case": tt.name + string(rune('a'+i))})
			var hit atomic.Int32
			proxy.setFault(tt.fault(&hit))
			defer proxy.setFault(nil)
			ref := proxy.Host + "/faults/p:" + string(rune('a'+i))
			dg, err := Push(ctx, mustImage(t, d), ref, anon)
			if err != nil {
				t.Fatalf("Push with one injected fault: %v", err)
			}
			if hit.Load() == 0 {
				t.Fatal("the fault was never injected")
			}
			proxy.setFault(nil)
			out := filepath.Join(t.TempDir(), "out")
			if err := Pull(ctx, reg.Host+"/faults/p:"+string(rune('a'+i)), out, anon); err != nil {
				t.Fatalf("Pull after faulty push: %v", err)
			}
			if p, err := Fetch(ctx, ref, anon); err != nil || p.Digest() != dg {
				t.Errorf("Fetch = %v, %v; want digest %s", p, err, dg)
			}
		})
	}

	for _, tt := range []struct {
		name   string
		resets int  // how many layer downloads are cut
		ok     bool // whether Pull should still succeed
	}{{"reset mid-layer on pull", 1, true}, {"reset on every pull", 1000, false}} {
		t.Run(tt.name, func(t *testing.T) {
			var cut atomic.Int32
			proxy.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/sha256:") || int(cut.Load()) >= tt.resets {
					return false
				}
				resp, err := http.Get("http://" + reg.Host + r.URL.Path)
				if err != nil {
					return false
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if len(body) < 1000 { // the config: serve it
					return false
				}
				cut.Add(1)
				conn, bw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return false
				}
				fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", len(body))
				bw.Write(body[:len(body)/2])
				bw.Flush()
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				conn.Close()
				return true
			})
			defer proxy.setFault(nil)
			parent := t.TempDir()
			err := Pull(ctx, proxy.Host+"/twice/p:1", filepath.Join(parent, "out"), anon)
			if tt.ok {
				if err != nil {
					t.Fatalf("Pull with one connection reset: %v", err)
				}
				if cut.Load() == 0 {
					t.Fatal("no download was cut")
				}
				return
			}
			if err == nil {
				t.Fatal("Pull succeeded although every layer download was reset")
			}
			t.Log(err)
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("Pull left %v behind", entries)
			}
		})
	}

	t.Run("wrong digest on pull", func(t *testing.T) {
		ref := proxy.Host + "/twice/p:1"
		proxy.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/sha256:") {
				return false
			}
			r2 := r.Clone(r.Context())
			r2.RequestURI = ""
			resp, err := http.DefaultTransport.RoundTrip(rewriteHost(r2, reg.Host))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return true
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if len(body) > 1000 { // a layer: flip a byte in the middle
				body[len(body)/2] ^= 0xff
			}
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			w.Write(body)
			return true
		})
		defer proxy.setFault(nil)
		parent := t.TempDir()
		err := Pull(ctx, ref, filepath.Join(parent, "out"), anon)
		if !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("Pull = %v; want ErrDigestMismatch", err)
		}
		t.Log(err)
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("Pull left %v behind", entries)
		}
	})
}

func rewriteHost(r *http.Request, host string) *http.Request {
	r.URL.Scheme = "http"
	r.URL.Host = host
	r.Host = host
	return r
}
