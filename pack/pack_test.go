package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/validate"
)

// anon is a keychain with no credentials, so tests never read the
// developer's ~/.docker/config.json.
var anon = WithKeychain(authn.NewMultiKeychain())

// testDir writes a small plugin directory (testplugin.Write) and returns
// it: an executable, files in nested and empty-looking dirs, a symlink and
// a hard link.
func testDir(t *testing.T) string {
	t.Helper()
	cfg := plugin.Config{
		Description:   "test <plugin>",
		Documentation: "https://example.invalid",
		Entrypoint:    []string{"/bin/plug"},
		Interface:     plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"},
	}
	return testplugin.Write(t, &cfg, map[string]testplugin.File{
		"bin/plug":        testplugin.Exec(strings.Repeat("binary", 1000)),
		"etc/plug.conf":   {Body: "x=1\n"},
		"data/.keep":      {},
		"b-after-bin":     {Body: "sorted?"},
		"bin/zz/deep.txt": {Body: "deep"},
		"bin/alias":       {Symlink: "plug"},
		"bin/hard":        {Link: "bin/plug"},
	})
}

// writeFiles writes files (path -> content, 0644) under root: for the odd
// or broken plugin dirs testDir does not make.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newRegistry starts go-containerregistry's in-memory registry behind mw
// (nil: none) and returns its host:port.
func newRegistry(t testing.TB, mw func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if mw != nil {
		h = mw(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// bearerAuth is newRegistry's middleware for a registry behind bearer
// tokens: a request without "Bearer t0k3n" is answered 401 with a realm
// of /token on the same host, which hands out that token and passes the
// scopes asked for to onToken (called from the server's goroutines, so it
// locks what it writes).
func bearerAuth(onToken func(scopes []string)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				onToken(r.URL.Query()["scope"])
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"token":"t0k3n"}`)
				return
			}
			if r.Header.Get("Authorization") != "Bearer t0k3n" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// viaLayout writes img as an OCI layout in a temporary directory and
// reads it back: a plugin that was not packed here.
func viaLayout(t *testing.T, img v1.Image) (p *Plugin, lay string) {
	t.Helper()
	lay = filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(lay, img); err != nil {
		t.Fatal(err)
	}
	p, err := ReadLayout(lay)
	if err != nil {
		t.Fatal(err)
	}
	return p, lay
}

func mustImage(t *testing.T, dir string, opts ...Option) v1.Image {
	t.Helper()
	img, err := Image(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.(io.Closer).Close() })
	return img
}

func TestConfigAndManifestBytesMatchDockerd(t *testing.T) {
	want, err := os.ReadFile("testdata/config-blob-20.10.24.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := plugin.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("config blob differs from dockerd's (-want +got):\n%s", diff)
	}

	wantM, err := os.ReadFile("testdata/manifest-pushed-20.10.24.json")
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(wantM, &m); err != nil {
		t.Fatal(err)
	}
	gotM, err := marshalManifest(
		descriptor{MediaType: m.Config.MediaType, Digest: m.Config.Digest.String(), Size: m.Config.Size},
		[]descriptor{{MediaType: m.Layers[0].MediaType, Digest: m.Layers[0].Digest.String(), Size: m.Layers[0].Size}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(wantM), string(gotM)); diff != "" {
		t.Errorf("manifest differs from dockerd's (-want +got):\n%s", diff)
	}
}

func TestImageArtifact(t *testing.T) {
	dir := testDir(t)
	img := mustImage(t, dir)

	// The media types dockerd 20.10 wrote (/work/shared/reference/
	// manifest-pushed-20.10.24.json), as literals, not pack's constants.
	const (
		wantManifest = "application/vnd.docker.distribution.manifest.v2+json"
		wantConfig   = "application/vnd.docker.plugin.v1+json"
		wantLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	)
	mt, err := img.MediaType()
	if err != nil || mt != wantManifest {
		t.Errorf("media type = %s, %v; want %s", mt, err, wantManifest)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != wantConfig || len(m.Layers) != 1 || m.Layers[0].MediaType != wantLayer {
		t.Errorf("manifest = %+v; want one %s layer and a %s config", m, wantLayer, wantConfig)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(raw, []byte("}\n")) || !bytes.Contains(raw, []byte(`"test \u003cplugin\u003e"`)) {
		t.Errorf("config blob not serialised like dockerd (trailing newline, HTML escaping):\n%s", raw)
	}
	l, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	diffID, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	// diff_ids holds the uncompressed digest, recomputed from the bytes.
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(rc)
	if err != nil {
		t.Fatal(err)
	}
	if h != diffID {
		t.Errorf("DiffID() = %s, but the tar hashes to %s", diffID, h)
	}
	if !bytes.Contains(raw, []byte(`"rootfs":{"diff_ids":["`+h.String()+`"],"type":"layers"}}`)) {
		t.Errorf("config rootfs does not carry the uncompressed digest %s:\n%s", h, raw)
	}

	// Tar entries: sorted walk order, "./" first, normalised owners and times.
	rc, err = l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		if hdr.Uid != 0 || hdr.Gid != 0 || !hdr.ModTime.Equal(time.Unix(0, 0)) || hdr.Uname != "" {
			t.Errorf("%s: uid %d gid %d mtime %v uname %q; want normalised", hdr.Name, hdr.Uid, hdr.Gid, hdr.ModTime, hdr.Uname)
		}
		switch hdr.Name {
		case "bin/alias":
			if hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != "plug" {
				t.Errorf("bin/alias = %c -> %q; want symlink to plug", hdr.Typeflag, hdr.Linkname)
			}
		case "bin/plug":
			if hdr.Typeflag != tar.TypeLink || hdr.Linkname != "bin/hard" {
				t.Errorf("bin/plug = %c -> %q; want hard link to bin/hard (the first name)", hdr.Typeflag, hdr.Linkname)
			}
		case "bin/hard":
			if hdr.Mode&0o777 != 0o755 {
				t.Errorf("bin/hard mode %o; want 755", hdr.Mode)
			}
		}
	}
	want := []string{"./", "b-after-bin", "bin/", "bin/alias", "bin/hard", "bin/plug", "bin/zz/", "bin/zz/deep.txt",
		"data/", "data/.keep", "etc/", "etc/plug.conf"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("tar entries (-want +got):\n%s", diff)
	}
}

func TestImageReproducible(t *testing.T) {
	dir := testDir(t)
	digest := func(opts ...Option) v1.Hash {
		t.Helper()
		d, err := mustImage(t, dir, opts...).Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := digest()
	// New mtimes must not change anything...
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	filepath.Walk(filepath.Join(dir, "rootfs"), func(p string, _ os.FileInfo, _ error) error {
		os.Lchown(p, 1234, 1234)
		return os.Chtimes(p, old, old)
	})
	if again := digest(); again != first {
		t.Errorf("digest changed with mtimes/owners: %s then %s", first, again)
	}
	// ... unless asked to keep them.
	if kept := digest(WithPreserveTimes(true)); kept == first {
		t.Errorf("WithPreserveTimes(true) gave the normalised digest %s", kept)
	}
	if fast := digest(WithCompressionLevel(1)); fast == first {
		t.Errorf("WithCompressionLevel(1) gave the default-level digest %s", fast)
	}
	if _, err := Image(context.Background(), dir, WithCompressionLevel(12)); err == nil {
		t.Error("WithCompressionLevel(12) succeeded; want an error")
	}
}

func TestImageBadDir(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"empty", nil},
		{"no rootfs", map[string]string{"config.json": "{}"}},
		{"no config", map[string]string{"rootfs/x": "x"}},
		{"bad json", map[string]string{"config.json": "{", "rootfs/x": "x"}},
		{"invalid config", map[string]string{"rootfs/x": "x", "config.json": `{"Description":"d","Documentation":"d",
			"Interface":{"Socket":"s.sock","Types":["weird"]}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, err := Image(context.Background(), dir)
			if err == nil {
				t.Fatal("Image succeeded; want an error")
			}
			var ce *validate.ConfigError
			if tt.name == "invalid config" && (!errors.As(err, &ce) || !strings.Contains(err.Error(), "weird")) {
				t.Errorf("Image = %v; want a *validate.ConfigError about the interface type", err)
			}
		})
	}
}

// treeOf lists a directory as path -> description, for comparisons.
func treeOf(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "-> " + l
		case fi.IsDir():
			out[rel] = "dir " + fi.Mode().Perm().String()
		default:
			b, _ := os.ReadFile(p)
			out[rel] = fi.Mode().Perm().String() + " " + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPushPullRoundTrip(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	dir := testDir(t)
	img := mustImage(t, dir)
	ref := host + "/team/plug:1.0"
	dg, err := Push(ctx, img, ref, anon)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := img.Digest(); dg != want.String() {
		t.Errorf("Push digest %s; want %s", dg, want)
	}

	p, err := Fetch(ctx, ref, anon)
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest() != dg {
		t.Errorf("Fetch digest %s; want %s", p.Digest(), dg)
	}
	gotCfg, err := p.ConfigJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCfg, _ := img.RawConfigFile()
	if !bytes.Equal(gotCfg, wantCfg) {
		t.Errorf("config blob differs:\n got %s\nwant %s", gotCfg, wantCfg)
	}
	// The manifest in the registry is byte for byte ours.
	r, _ := name.ParseReference(ref)
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	wantM, _ := img.RawManifest()
	if !bytes.Equal(desc.Manifest, wantM) {
		t.Errorf("registry manifest:\n%s\nwant\n%s", desc.Manifest, wantM)
	}

	out := filepath.Join(t.TempDir(), "pulled")
	if err := Pull(ctx, ref, out, anon); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(treeOf(t, filepath.Join(dir, "rootfs")), treeOf(t, filepath.Join(out, "rootfs"))); diff != "" {
		t.Errorf("pulled rootfs (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	c1, _ := plugin.Parse(orig)
	c2, err := plugin.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c1, c2); diff != "" {
		t.Errorf("pulled config.json (-want +got):\n%s", diff)
	}
	// A second pull into the same, now non-empty, directory is refused.
	if err := Pull(ctx, ref, out, anon); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Pull into a non-empty dir: %v; want a 'not empty' error", err)
	}
}

// counter counts blob uploads (POST/PATCH/PUT under /blobs/uploads/).
type counter struct {
	mu      sync.Mutex
	uploads int
}

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/uploads/") && r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.mu.Lock()
			c.uploads++
			c.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uploads
}

func TestPushTwiceUploadsNothing(t *testing.T) {
	ctx := context.Background()
	var c counter
	host := newRegistry(t, c.wrap)
	dir := testDir(t)
	if _, err := Push(ctx, mustImage(t, dir), host+"/p:1", anon); err != nil {
		t.Fatal(err)
	}
	if c.count() == 0 {
		t.Fatal("first push uploaded nothing")
	}
	c.mu.Lock()
	c.uploads = 0
	c.mu.Unlock()
	// A fresh Image of the same dir: same digests, so nothing to upload.
	if _, err := Push(ctx, mustImage(t, dir), host+"/p:2", anon); err != nil {
		t.Fatal(err)
	}
	if n := c.count(); n != 0 {
		t.Errorf("second push made %d upload requests; want 0", n)
	}
}

func TestPushRetriesServerErrors(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	failed := map[string]bool{}
	host := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The first upload PUT/PATCH of each path fails with a 500.
			if strings.Contains(r.URL.Path, "/blobs/uploads/") && (r.Method == http.MethodPut || r.Method == http.MethodPatch) {
				mu.Lock()
				first := !failed[r.Method]
				failed[r.Method] = true
				mu.Unlock()
				if first {
					io.Copy(io.Discard, r.Body)
					http.Error(w, "injected", http.StatusInternalServerError)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	img := mustImage(t, testDir(t))
	if _, err := Push(ctx, img, host+"/retry:1", anon); err != nil {
		t.Fatalf("Push with one injected 500: %v", err)
	}
	if len(failed) == 0 {
		t.Fatal("no upload was intercepted")
	}
	if _, err := Fetch(ctx, host+"/retry:1", anon); err != nil {
		t.Fatal(err)
	}
}

func TestFetchErrors(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	// A container image where a plugin is expected.
	ci, err := random.Image(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := name.ParseReference(host + "/busybox:latest")
	if err := remote.Write(r, ci); err != nil {
		t.Fatal(err)
	}
	denied := newRegistry(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
		})
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedHost := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()

	tests := []struct {
		name, ref string
		want      error
	}{
		{"not found", host + "/nothing:here", ErrNotFound},
		{"container image", host + "/busybox:latest", ErrNotPlugin},
		{"unauthorized", denied + "/private:1", ErrUnauthorized},
		{"unreachable", closedHost + "/p:1", ErrUnreachable},
		{"bad reference", "UPPER/Case:@@", ErrBadReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fetch(ctx, tt.ref, anon)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Fetch(%s) = %v; want %v", tt.ref, err, tt.want)
			}
			t.Log(err)
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			out := filepath.Join(t.TempDir(), "out")
			if err := Pull(ctx, tt.ref, out, anon); !errors.Is(err, tt.want) {
				t.Errorf("Pull = %v; want %v", err, tt.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("Pull left %s behind", out)
			}
		})
	}
}

func TestPullWrongDigest(t *testing.T) {
	ctx := context.Background()
	var corrupt atomic.Bool
	host := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if corrupt.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				if len(body) > 0 && !bytes.HasPrefix(body, []byte("{")) { // a layer, not the config
					body[len(body)/2] ^= 0xff
				}
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				w.Write(body)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := host + "/bad:1"
	if _, err := Push(ctx, mustImage(t, testDir(t)), ref, anon); err != nil {
		t.Fatal(err)
	}
	corrupt.Store(true)
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	err := Pull(ctx, ref, out, anon)
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Pull of a corrupted layer = %v; want ErrDigestMismatch", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("Pull left %v behind", entries)
	}
}

func TestPushRequestsPluginScope(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var scopes []string
	host := newRegistry(t, bearerAuth(func(s []string) {
		mu.Lock()
		scopes = append(scopes, s...)
		mu.Unlock()
	}))
	ref := host + "/org/plug:1"
	if _, err := Push(ctx, mustImage(t, testDir(t)), ref, anon); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, ref, anon); err != nil {
		t.Fatal(err)
	}
	sort.Strings(scopes)
	for _, want := range []string{"repository(plugin):org/plug:pull,push", "repository(plugin):org/plug:pull"} {
		found := false
		for _, s := range scopes {
			found = found || s == want
		}
		if !found {
			t.Errorf("token scopes %q lack %q", scopes, want)
		}
	}
}

func TestLayoutRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := testDir(t)
	img := mustImage(t, dir)
	p, lay := viaLayout(t, img)
	if want, _ := img.Digest(); p.Digest() != want.String() {
		t.Errorf("layout digest %s; want %s", p.Digest(), want)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := Unpack(ctx, p, out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(treeOf(t, filepath.Join(dir, "rootfs")), treeOf(t, filepath.Join(out, "rootfs"))); diff != "" {
		t.Errorf("rootfs from layout (-want +got):\n%s", diff)
	}
	// The layout pushes unchanged: same digest as the original.
	host := newRegistry(t, nil)
	limg, err := p.Image()
	if err != nil {
		t.Fatal(err)
	}
	dg, err := Push(ctx, limg, host+"/from-layout:1", anon)
	if err != nil {
		t.Fatal(err)
	}
	if dg != p.Digest() {
		t.Errorf("pushed from layout as %s; want %s", dg, p.Digest())
	}
	if !IsLayout(lay) || IsLayout(dir) {
		t.Error("IsLayout is wrong")
	}
}

func TestHTTPSOnly(t *testing.T) {
	var reached bool
	h := httpsOnly{inner: roundTripFunc(func(*http.Request) (*http.Response, error) {
		reached = true
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(""))}, nil
	})}
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:5000/v2/", true},
		{"http://localhost:5000/v2/", true},
		{"http://[::1]:5000/v2/", true},
		{"https://10.0.0.1/v2/", true},
		{"http://10.0.0.1/v2/", false},
		{"http://192.168.1.20:5000/v2/", false},
		{"http://registry.example.com/v2/", false},
	}
	for _, tt := range tests {
		reached = false
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		_, err := h.RoundTrip(req)
		if (err == nil) != tt.ok || reached != tt.ok {
			t.Errorf("%s: err %v, reached %v; want ok=%v", tt.url, err, reached, tt.ok)
		}
		if !tt.ok && !errors.Is(err, ErrUnreachable) {
			t.Errorf("%s: %v does not wrap ErrUnreachable", tt.url, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
