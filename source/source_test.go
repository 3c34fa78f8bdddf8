package source_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
	"github.com/dplug/dplug/validate"
)

const goodConfig = `{
  "description": "test plugin",
  "documentation": "https://example.invalid",
  "entrypoint": ["/bin/plug"],
  "interface": {"types": ["docker.volumedriver/1.0"], "socket": "plug.sock"}
}
`

// pluginDir writes a plugin dir named myplug (testplugin.WriteRawTo) with
// config and an executable bin/plug.
func pluginDir(t *testing.T, config string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "myplug")
	if err := testplugin.WriteRawTo(dir, []byte(config), nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func emptyStore(t *testing.T) func() (*store.Store, error) {
	root := t.TempDir()
	return func() (*store.Store, error) { return store.Open(root) }
}

func TestOpenDir(t *testing.T) {
	ctx := context.Background()
	dir := pluginDir(t, goodConfig)
	s, err := source.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != source.Dir || s.Name != "myplug" || s.Config == nil || s.Config.Interface.Socket != "plug.sock" {
		t.Fatalf("got %+v", s)
	}
	if s.Rootfs != filepath.Join(dir, "rootfs") {
		t.Errorf("rootfs %q", s.Rootfs)
	}
	var names []string
	err = s.Layers(ctx, func(r io.Reader) error {
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			names = append(names, strings.TrimPrefix(h.Name, "./"))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(names, " "), "bin/plug") {
		t.Errorf("layer entries %v lack bin/plug", names)
	}
}

// Every kind of bad argument is one NotFoundError with a message naming
// the argument and what was expected; paths are flagged so the CLI can
// make them usage errors.
func TestOpenNotFound(t *testing.T) {
	ctx := context.Background()
	noRootfs := pluginDir(t, goodConfig)
	if err := os.RemoveAll(filepath.Join(noRootfs, "rootfs")); err != nil {
		t.Fatal(err)
	}
	cfgIsDir := filepath.Join(t.TempDir(), "p")
	if err := os.MkdirAll(filepath.Join(cfgIsDir, "config.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cfgIsDir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := pluginDir(t, goodConfig)
	os.Remove(filepath.Join(fifo, "config.json"))
	if err := syscall.Mkfifo(filepath.Join(fifo, "config.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)

	for _, tc := range []struct {
		name  string
		arg   string
		opts  []source.Option
		want  string
		path  bool
		store bool // the store's not-found error instead
	}{
		{name: "missing path", arg: "./nowhere", want: "./nowhere: no such plugin dir", path: true},
		{name: "missing abs path", arg: "/nonexistent/x", want: "no such", path: true},
		{name: "no rootfs", arg: noRootfs, want: "no rootfs/ directory", path: true},
		{name: "config.json is a dir", arg: cfgIsDir, want: "not a regular file", path: true},
		{name: "config.json is a fifo", arg: fifo, want: "not a regular file", path: true},
		{name: "a file", arg: file, want: "is a file", path: true},
		{name: "empty dir", arg: t.TempDir(), want: "neither a plugin dir", path: true},
		{name: "dir only", arg: "./nowhere", opts: []source.Option{source.WithKinds(source.Dir)}, want: "no such plugin dir (config.json + rootfs/)", path: true},
		{name: "unknown name", arg: "no/such:plugin", opts: []source.Option{source.WithKinds(source.Dir | source.Installed), source.WithStore(emptyStore(t))}, store: true},
		{name: "bad reference", arg: "UPPER/case", opts: []source.Option{source.WithKinds(source.Registry)}, want: "is not a reference"},
		{name: "empty", arg: "", want: "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var err error
			go func() {
				defer close(done)
				_, err = source.Open(ctx, tc.arg, tc.opts...)
			}()
			select {
			case <-done:
			case <-ctx.Done():
			}
			if tc.store {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("err = %v, want store.ErrNotFound", err)
				}
				return
			}
			var nf *source.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("err = %v (%T), want *NotFoundError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			if nf.Path != tc.path {
				t.Errorf("Path = %v, want %v", nf.Path, tc.path)
			}
		})
	}
}

// A config with errors is refused the same way whatever the source.
func TestOpenInvalidConfig(t *testing.T) {
	ctx := context.Background()
	bad := strings.Replace(goodConfig, `"socket": "plug.sock"`, `"socket": ""`, 1)
	dir := pluginDir(t, bad)
	_, err := source.Open(ctx, dir)
	var ce *validate.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("dir: err = %v, want *validate.ConfigError", err)
	}
	if !strings.Contains(err.Error(), "config.json:") {
		t.Errorf("dir: error does not locate the file: %v", err)
	}

	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	ref := pushRaw(t, host+"/bad/plugin:1", []byte(bad))
	_, err = source.Open(ctx, ref)
	if !errors.As(err, &ce) {
		t.Fatalf("registry: err = %v, want *validate.ConfigError", err)
	}
}

func TestOpenNotPluginConfig(t *testing.T) {
	ctx := context.Background()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	imageConfig, _ := json.Marshal(v1.ConfigFile{Architecture: "amd64", OS: "linux",
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}}}})
	for _, tc := range []struct {
		name, blob, want string
		rule             string
	}{
		{"null", "null", "is null, not a plugin config", "DP007"},
		{"empty object", "{}", "empty object", "DP007"},
		{"image config", string(imageConfig), "container image config", "DP007"},
		{"no interface", `{"description":"x","documentation":"y","entrypoint":["/x"]}`, "interface is missing", "DP101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := pushRaw(t, host+"/np/"+strings.ReplaceAll(tc.name, " ", "-")+":1", []byte(tc.blob))
			_, err := source.Open(ctx, ref)
			var ce *validate.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *validate.ConfigError", err)
			}
			if len(ce.Errors()) != 1 || ce.Errors()[0].Rule != tc.rule {
				t.Fatalf("diagnostics %v, want one DP007", ce.Errors())
			}
			if !strings.Contains(ce.Errors()[0].Message, tc.want) {
				t.Errorf("message %q, want it to contain %q", ce.Errors()[0].Message, tc.want)
			}
		})
	}
}

func TestOpenRegistryAndLayoutAndInstalled(t *testing.T) {
	ctx := context.Background()
	dir := pluginDir(t, goodConfig)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	img, err := pack.Image(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/me/plug:1.0"
	if _, err := pack.Push(ctx, img, ref); err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(t.TempDir(), "lay")
	if err := pack.WriteLayout(layoutDir, img); err != nil {
		t.Fatal(err)
	}

	s, err := source.Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != source.Registry || s.Name != ref || s.Reference != ref || s.Artifact == nil {
		t.Errorf("registry: %+v", s)
	}
	for _, d := range s.Warnings {
		if d.Rule == "DP108" {
			t.Errorf("registry: the pusher's rootfs is reported: %v", d)
		}
	}

	l, err := source.Open(ctx, layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != source.Layout || l.Name != "lay" {
		t.Errorf("layout: %+v", l)
	}
	// Registry only: a layout dir is not accepted.
	if _, err := source.Open(ctx, layoutDir, source.WithKinds(source.Registry)); err == nil {
		t.Error("layout accepted where only a registry is")
	}

	root := t.TempDir()
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Install(ctx, s, store.InstallOptions{Name: s.Name, Reference: s.Reference,
		Grant: func([]store.Privilege) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	open := func() (*store.Store, error) { return st, nil }
	in, err := source.Open(ctx, ref, source.WithStore(open), source.WithKinds(source.Installed))
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != source.Installed || in.Stored == nil || !strings.HasSuffix(in.Rootfs, "rootfs") {
		t.Errorf("installed: %+v", in)
	}
	if _, err := os.Stat(filepath.Join(in.Rootfs, "bin", "plug")); err != nil {
		t.Errorf("installed rootfs: %v", err)
	}
}

// pushRaw pushes a plugin artifact whose config blob is exactly blob.
func pushRaw(t *testing.T, ref string, blob []byte) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	tw.Close()
	cfg := static.NewLayer(blob, pack.MediaTypeConfig)
	lay := static.NewLayer(layer.Bytes(), types.DockerUncompressedLayer)
	for _, l := range []v1.Layer{cfg, lay} {
		if err := remote.WriteLayer(r.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	desc := func(l v1.Layer) v1.Descriptor {
		d, _ := l.Digest()
		n, _ := l.Size()
		mt, _ := l.MediaType()
		return v1.Descriptor{MediaType: mt, Digest: d, Size: n}
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.DockerManifestSchema2, Config: desc(cfg), Layers: []v1.Descriptor{desc(lay)}}
	raw, _ := json.Marshal(m)
	if err := remote.Put(r, rawManifest{raw}); err != nil {
		t.Fatal(err)
	}
	return ref
}

type rawManifest struct{ raw []byte }

func (m rawManifest) RawManifest() ([]byte, error) { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) {
	return types.DockerManifestSchema2, nil
}

// The same config is refused for its author and only warned about for a
// consumer when dockerd accepts it but runs it differently (SPEC §3).
func TestOpenAudience(t *testing.T) {
	ctx := context.Background()
	cfg := strings.Replace(goodConfig, `"entrypoint"`, `"user": {"uid": 1000}, "entrypoint"`, 1)
	dir := pluginDir(t, cfg)
	s, err := source.Open(ctx, dir)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	found := false
	for _, d := range s.Warnings {
		found = found || d.Rule == "DP601"
	}
	if !found {
		t.Errorf("consumer: warnings %v lack DP601", s.Warnings)
	}
	_, err = source.Open(ctx, dir, source.WithAuthor(source.Dir))
	var ce *validate.ConfigError
	if !errors.As(err, &ce) || ce.Errors()[0].Rule != "DP601" {
		t.Fatalf("author: err = %v, want DP601 refused", err)
	}
	// Author kinds other than the source's own leave it consumed.
	if _, err := source.Open(ctx, dir, source.WithAuthor(source.Layout)); err != nil {
		t.Fatalf("author of layouts, dir source: %v", err)
	}
}

// WithLogger logs each warning as its diagnostic line.
func TestOpenLogsWarnings(t *testing.T) {
	cfg := strings.Replace(goodConfig, `"entrypoint"`, `"user": {"uid": 1000}, "entrypoint"`, 1)
	var b bytes.Buffer
	l := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	s, err := source.Open(context.Background(), pluginDir(t, cfg), source.WithLogger(l))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, d := range s.Warnings {
		fmt.Fprintf(&want, "level=WARN msg=%q\n", d.String())
	}
	if len(s.Warnings) == 0 || b.String() != want.String() {
		t.Errorf("logged %q, want %q", b.String(), want.String())
	}
}
