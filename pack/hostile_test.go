package pack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dplug/dplug/plugin"
)

// Hostile registries: each test gives dplug a short timeout and fails if
// the operation does not end within hostileBound.

const (
	shortTimeout = 300 * time.Millisecond
	hostileBound = 10 * time.Second
)

// within runs fn and fails the test if it has not returned after
// hostileBound (the operation hangs).
func within(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hostileBound):
		t.Fatalf("still waiting after %s: the operation hangs", hostileBound)
		return nil
	}
}

// artifact is a plugin artifact served by fakeRegistry.
type artifact struct {
	manifest []byte
	config   []byte
	layer    []byte
	cfgDesc  descriptor
	lyrDesc  descriptor
}

// newArtifact builds a plugin artifact around layer; sizes, when not nil,
// overrides the sizes the manifest declares (config, layer).
func newArtifact(t *testing.T, layer []byte, sizes *[2]int64) *artifact {
	t.Helper()
	cfg := plugin.Config{
		Description: "hostile", Documentation: "https://example.invalid",
		Entrypoint: []string{"/bin/plug"},
		Interface:  plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"},
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	digest := func(b []byte) string {
		h, _, _ := v1.SHA256(bytes.NewReader(b))
		return h.String()
	}
	a := &artifact{config: config, layer: layer}
	a.cfgDesc = descriptor{MediaType: MediaTypeConfig, Digest: digest(config), Size: int64(len(config))}
	a.lyrDesc = descriptor{MediaType: MediaTypeLayer, Digest: digest(layer), Size: int64(len(layer))}
	if sizes != nil {
		a.cfgDesc.Size, a.lyrDesc.Size = sizes[0], sizes[1]
	}
	if a.manifest, err = marshalManifest(a.cfgDesc, []descriptor{a.lyrDesc}); err != nil {
		t.Fatal(err)
	}
	return a
}

// fakeRegistry serves a as REPO:1 for any repository; hook runs first and
// may answer instead (returning true). It returns host:port.
func fakeRegistry(t *testing.T, a *artifact, hook func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook != nil && hook(w, r) {
			return
		}
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", string(MediaTypeManifest))
			w.Header().Set("Docker-Content-Digest", "")
			w.Write(a.manifest)
		case strings.HasSuffix(r.URL.Path, "/blobs/"+a.cfgDesc.Digest):
			w.Write(a.config)
		case strings.HasSuffix(r.URL.Path, "/blobs/"+a.lyrDesc.Digest):
			w.Write(a.layer)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: unblocks stalled handlers
	hangs.Store(stop)
	return strings.TrimPrefix(srv.URL, "http://")
}

// hangs holds the stop channel of the latest fakeRegistry, which stalled
// handlers wait on.
var hangs atomic.Value

func stall(r *http.Request) {
	select {
	case <-hangs.Load().(chan struct{}):
	case <-r.Context().Done():
	}
}

func TestRegistryNeverAnswers(t *testing.T) {
	host := silentListener(t)
	ctx := context.Background()
	opts := []Option{anon, WithTimeout(shortTimeout)}
	img := mustImage(t, testDir(t))
	for _, tt := range []struct {
		name string
		op   func() error
	}{
		{"fetch", func() error { _, err := Fetch(ctx, host+"/x/p:1", opts...); return err }},
		{"pull", func() error { return Pull(ctx, host+"/x/p:1", filepath.Join(t.TempDir(), "out"), opts...) }},
		{"push", func() error { _, err := Push(ctx, img, host+"/x/p:1", opts...); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := within(t, tt.op)
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v; want ErrTimeout", err)
			}
			if !strings.Contains(err.Error(), "--timeout") {
				t.Errorf("error %q does not say how to raise the timeout", err)
			}
		})
	}
}

// TestTokenServerNeverAnswers: the registry asks for a token from a
// server that never answers (on the registry's host: go-containerregistry
// refuses other loopback realms).
func TestTokenServerNeverAnswers(t *testing.T) {
	a := newArtifact(t, testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: "x"}}), nil)
	var host string
	host = fakeRegistry(t, a, hookFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			stall(r) // headers never come
			return
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="reg"`, host))
		w.WriteHeader(http.StatusUnauthorized)
	}).withTrue())
	err := within(t, func() error {
		_, err := Fetch(context.Background(), host+"/x/p:1", anon, WithTimeout(shortTimeout))
		return err
	})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v; want ErrTimeout", err)
	}
}

// hookFunc adapts a handler that always answers to fakeRegistry's hook.
type hookFunc func(w http.ResponseWriter, r *http.Request)

func (f hookFunc) withTrue() func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool { f(w, r); return true }
}

func TestRegistrySilentMidBody(t *testing.T) {
	layer := testplugin.TarGz(t, map[string]testplugin.File{"big": {Body: strings.Repeat("0123456789abcdef", 1<<16)}})
	a := newArtifact(t, layer, nil)
	var gets atomic.Int32
	host := fakeRegistry(t, a, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, a.lyrDesc.Digest) {
			return false
		}
		gets.Add(1)
		w.Header().Set("Content-Length", fmt.Sprint(len(layer)))
		w.WriteHeader(http.StatusOK)
		w.Write(layer[:len(layer)/2])
		http.NewResponseController(w).Flush()
		stall(r)
		return true
	})
	parent := t.TempDir()
	err := within(t, func() error {
		return Pull(context.Background(), host+"/x/p:1", filepath.Join(parent, "out"), anon, WithTimeout(shortTimeout))
	})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v; want ErrTimeout", err)
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("the layer was requested %d times; want 1 (a timeout is not retried)", n)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("Pull left %v behind", entries)
	}
}

func TestRegistryRedirectLoop(t *testing.T) {
	a := newArtifact(t, testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: "x"}}), nil)
	for _, what := range []string{"/manifests/", "/blobs/" + a.lyrDesc.Digest} {
		t.Run(strings.Trim(what, "/"), func(t *testing.T) {
			var hits atomic.Int32
			host := fakeRegistry(t, a, func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, what) {
					return false
				}
				hits.Add(1)
				http.Redirect(w, r, r.URL.String(), http.StatusFound)
				return true
			})
			// The context bound stops an unbounded loop, so that the
			// assertion (not the test timeout) reports it.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := within(t, func() error {
				return Pull(ctx, host+"/x/p:1", filepath.Join(t.TempDir(), "out"), anon, WithTimeout(shortTimeout))
			})
			if !errors.Is(err, ErrTooManyRedirects) {
				t.Fatalf("err = %v; want ErrTooManyRedirects", err)
			}
			if n := hits.Load(); n != maxRedirects {
				t.Errorf("%d requests to the redirecting URL; want %d (no retry of a redirect loop)", n, maxRedirects)
			}
		})
	}
}

func TestManifestWithoutSizes(t *testing.T) {
	layer := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: "x"}})
	for _, tt := range []struct {
		name  string
		sizes [2]int64
		want  string
	}{
		{"layer size 0", [2]int64{-2, 0}, "has size 0"},
		{"layer size -1", [2]int64{-2, -1}, "has size -1"},
		{"config size 0", [2]int64{0, -2}, "config blob"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newArtifact(t, layer, nil)
			sizes := tt.sizes
			for i, s := range []int64{a.cfgDesc.Size, a.lyrDesc.Size} {
				if sizes[i] == -2 {
					sizes[i] = s
				}
			}
			a = newArtifact(t, layer, &sizes)
			var blobs atomic.Int32
			host := fakeRegistry(t, a, func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/blobs/") {
					return false
				}
				blobs.Add(1)
				w.WriteHeader(http.StatusOK)
				for r.Context().Err() == nil { // endless
					if _, err := w.Write(bytes.Repeat([]byte{0}, 64<<10)); err != nil {
						break
					}
				}
				return true
			})
			ref := host + "/x/p:1"
			err := within(t, func() error {
				return Pull(context.Background(), ref, filepath.Join(t.TempDir(), "out"), anon, WithTimeout(shortTimeout))
			})
			if !errors.Is(err, ErrBadManifest) {
				t.Fatalf("err = %v; want ErrBadManifest", err)
			}
			if msg := err.Error(); !strings.Contains(msg, ref) || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not name the reference and %q", msg, tt.want)
			}
			if n := blobs.Load(); n != 0 {
				t.Errorf("%d blob requests; want none", n)
			}
		})
	}
}

// TestVerifierStopsAtDeclaredSize: a registry that serves more than the
// declared size (endlessly) is cut off right after it.
func TestVerifierStopsAtDeclaredSize(t *testing.T) {
	layer := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: "x"}})
	a := newArtifact(t, layer, nil)
	var served atomic.Int64
	host := fakeRegistry(t, a, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, a.lyrDesc.Digest) {
			return false
		}
		w.WriteHeader(http.StatusOK)
		n, _ := w.Write(layer)
		served.Add(int64(n))
		for r.Context().Err() == nil {
			n, err := w.Write(bytes.Repeat([]byte{0}, 64<<10))
			served.Add(int64(n))
			if err != nil {
				break
			}
		}
		return true
	})
	err := within(t, func() error {
		return Pull(context.Background(), host+"/x/p:1", filepath.Join(t.TempDir(), "out"), anon, WithTimeout(shortTimeout))
	})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err = %v; want ErrDigestMismatch", err)
	}
	if !strings.Contains(err.Error(), "more than the") {
		t.Errorf("error %q does not say the registry served too much", err)
	}

	// The same at the verifier itself, with an endless reader.
	desc := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}, Size: 1000}
	vr := newVerifier(endless{}, desc)
	n, err := io.Copy(io.Discard, io.LimitReader(vr, 1<<30))
	if !errors.Is(err, ErrDigestMismatch) || n > desc.Size+1 {
		t.Errorf("verifier read %d bytes of an endless blob declared %d, err %v; want to stop at %d with ErrDigestMismatch",
			n, desc.Size, err, desc.Size+1)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestTruncatedGzipNotRetried: a layer whose bytes match its digest but
// whose gzip stream is cut short is a damaged blob: one attempt, a named
// error.
func TestTruncatedGzipNotRetried(t *testing.T) {
	full := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: strings.Repeat("data", 10000)}})
	layer := full[:len(full)*2/3]
	a := newArtifact(t, layer, nil)
	var gets atomic.Int32
	host := fakeRegistry(t, a, func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, a.lyrDesc.Digest) {
			gets.Add(1)
		}
		return false
	})
	parent := t.TempDir()
	err := within(t, func() error {
		return Pull(context.Background(), host+"/x/p:1", filepath.Join(parent, "out"), anon, WithTimeout(shortTimeout))
	})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("err = %v; want ErrDamaged", err)
	}
	want := "layer " + a.lyrDesc.Digest + " is truncated (gzip: unexpected EOF): the registry served a damaged blob"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\ndoes not contain %q", err, want)
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("the layer was requested %d times; want 1 (a damaged blob is not retried)", n)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("Pull left %v behind", entries)
	}
}

// TestCutMidLayerRetried: a registry that closes the connection before the
// declared Content-Length is a network fault, retried; not a digest
// mismatch.
func TestCutMidLayerRetried(t *testing.T) {
	layer := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: strings.Repeat("0123456789abcdef", 1<<14)}})
	a := newArtifact(t, layer, nil)
	var gets atomic.Int32
	host := fakeRegistry(t, a, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, a.lyrDesc.Digest) || gets.Add(1) > 1 {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(layer)))
		w.WriteHeader(http.StatusOK)
		w.Write(layer[:len(layer)/2])
		return true // the server closes the connection: the body ends early
	})
	err := within(t, func() error {
		return Pull(context.Background(), host+"/x/p:1", filepath.Join(t.TempDir(), "out"), anon, WithTimeout(shortTimeout))
	})
	if err != nil {
		t.Fatalf("Pull with one cut download: %v", err)
	}
	if n := gets.Load(); n != 2 {
		t.Errorf("the layer was requested %d times; want 2", n)
	}
}

// TestTLSRegistry: the bounded transport speaks TLS and HTTP/2 (what real
// registries serve) with a short timeout, for a push and a pull.
func TestTLSRegistry(t *testing.T) {
	var h2 atomic.Bool
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Store(true)
		}
		reg.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "https://") + "/tls/p:1"
	ctx := context.Background()
	opts := []Option{anon, WithInsecure(true), WithTimeout(shortTimeout)}
	if _, err := Push(ctx, mustImage(t, testDir(t)), ref, opts...); err != nil {
		t.Fatalf("push over TLS: %v", err)
	}
	if err := Pull(ctx, ref, filepath.Join(t.TempDir(), "out"), opts...); err != nil {
		t.Fatalf("pull over TLS: %v", err)
	}
	if !h2.Load() {
		t.Error("no request used HTTP/2")
	}
}

// silentListener is the address of a server that accepts connections and
// never writes a byte.
func silentListener(t *testing.T) string {
	addr, _ := testenv.SilentServer(t)
	return addr
}
