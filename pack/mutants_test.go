package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/validate"
)

// TestImageRefusesOneError: a config with exactly one error is not packed.
func TestImageRefusesOneError(t *testing.T) {
	// No entrypoint (DP301), nothing else wrong.
	config := `{"Description":"x","Documentation":"https://example.invalid",
"Interface":{"Types":["docker.volumedriver/1.0"],"Socket":"p.sock"}}`
	errs, _ := validate.Split(validate.Bytes("config.json", []byte(config), validate.WithKind(validate.KindConfig)))
	if len(errs) != 1 {
		t.Fatalf("precondition: the config has %d errors (%v); the test needs exactly one", len(errs), errs)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"config.json": config, "rootfs/bin/plug": "x"})
	img, err := Image(context.Background(), dir)
	var ce *validate.ConfigError
	if !errors.As(err, &ce) || len(ce.Errors()) != 1 {
		t.Fatalf("Image = %v, %v; want a *validate.ConfigError with the one error", img, err)
	}
}

// dockerdManifest is the manifest `docker plugin push` (20.10.24) wrote,
// captured in testdata: the media types to match, not pack's constants.
func dockerdManifest(t *testing.T) (*v1.Manifest, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "manifest-pushed-20.10.24.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return &m, raw
}

// TestMediaTypesMatchDockerd: what Image writes carries dockerd's media
// types, and a manifest dockerd wrote is read as a plugin.
func TestMediaTypesMatchDockerd(t *testing.T) {
	want, raw := dockerdManifest(t)
	// The literal strings, as a second witness of the captured file.
	if want.Config.MediaType != "application/vnd.docker.plugin.v1+json" ||
		want.MediaType != "application/vnd.docker.distribution.manifest.v2+json" ||
		want.Layers[0].MediaType != "application/vnd.docker.image.rootfs.diff.tar.gzip" {
		t.Fatalf("testdata/manifest-pushed-20.10.24.json is not dockerd's manifest: %+v", want)
	}
	img := mustImage(t, testDir(t))
	gotRaw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got v1.Manifest
	if err := json.Unmarshal(gotRaw, &got); err != nil {
		t.Fatal(err)
	}
	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	type types3 struct{ Manifest, Config, Layer types.MediaType }
	if diff := cmp.Diff(
		types3{want.MediaType, want.Config.MediaType, want.Layers[0].MediaType},
		types3{mt, got.Config.MediaType, got.Layers[0].MediaType}); diff != "" {
		t.Errorf("media types differ from dockerd's (-dockerd +dplug):\n%s", diff)
	}
	if got.MediaType != want.MediaType {
		t.Errorf("manifest mediaType field = %q; want dockerd's %q", got.MediaType, want.MediaType)
	}
	if _, err := parseManifest(want.MediaType, raw); err != nil {
		t.Errorf("dockerd's manifest is not read as a plugin: %v", err)
	}
}

// oneBlob serves the same bytes for any descriptor.
type oneBlob []byte

func (b oneBlob) blob(context.Context, v1.Descriptor) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(b)), nil
}

// TestConfigSizeLimit: a config blob may be 4 MiB and no more: one of
// exactly 4 MiB is read and verified whole, one declared a byte larger is
// refused before it is downloaded.
func TestConfigSizeLimit(t *testing.T) {
	const limit = 4 << 20
	cfg := []byte(`{"Description":"x","Entrypoint":["/p"]}`)
	data := append(cfg, bytes.Repeat([]byte(" "), limit-len(cfg))...)
	desc := func(size int64) v1.Descriptor {
		return v1.Descriptor{MediaType: MediaTypeConfig, Size: size, Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}}
	}
	p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Config: desc(limit)}, blobs: oneBlob(data)}
	got, err := p.ConfigJSON(context.Background())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ConfigJSON of a %d-byte config: %d bytes, %v; want it whole", limit, len(got), err)
	}
	p = &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Config: desc(limit + 1)}, blobs: oneBlob(data)}
	if _, err := p.ConfigJSON(context.Background()); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("config blob is %d bytes, more than %d", limit+1, limit)) {
		t.Fatalf("ConfigJSON of a config declared %d bytes: %v; want it refused", limit+1, err)
	}
}

// TestConfigDigestChecked: a config blob whose bytes do not match the
// manifest's digest is refused (ErrDigestMismatch), even when it parses.
func TestConfigDigestChecked(t *testing.T) {
	good := []byte(`{"Description":"x","Entrypoint":["/p"]}`)
	bad := []byte(`{"Description":"y","Entrypoint":["/p"]}`)
	desc := v1.Descriptor{MediaType: MediaTypeConfig, Size: int64(len(good)), Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(good))}}
	p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Config: desc}, blobs: oneBlob(bad)}
	if got, err := p.ConfigJSON(context.Background()); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("ConfigJSON of a config that does not match its digest = %q, %v; want ErrDigestMismatch", got, err)
	}
	p = &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Config: desc}, blobs: oneBlob(good)}
	if got, err := p.ConfigJSON(context.Background()); err != nil || !bytes.Equal(got, good) {
		t.Fatalf("ConfigJSON = %q, %v; want the config", got, err)
	}
}

// TestRatioBound: without an explicit max size a layer may expand to 100
// times its compressed size, or to the floor when that is more; past it
// the error names the ratio (a decompression bomb?).
func TestRatioBound(t *testing.T) {
	noise := make([]byte, 8<<10)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	layer := func(zeros int) ([]byte, v1.Descriptor) {
		b := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: string(noise) + strings.Repeat("\x00", zeros)}})
		return b, v1.Descriptor{MediaType: types.DockerLayer, Size: int64(len(b)), Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}}
	}
	for _, tt := range []struct {
		name  string
		zeros int   // the layer expands to about this plus 8 KiB
		floor int64 // the ratio bound's floor
		fits  bool
	}{
		{"within 100 times its size", 400 << 10, 1 << 10, true},
		{"past 100 times its size", 2 << 20, 1 << 10, false},
		{"past 100 times its size but within the floor", 2 << 20, 4 << 20, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, desc := layer(tt.zeros)
			expands := int64(tt.zeros + len(noise))
			if bound := 100 * desc.Size; (expands < bound) != (tt.zeros < 1<<20) {
				t.Fatalf("precondition: the layer is %d bytes (bound %d), expanding to %d", desc.Size, bound, expands)
			}
			p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Layers: []v1.Descriptor{desc}}, blobs: oneBlob(b),
				limits: sizeLimits{max: 64 << 20, ratio: true, floor: tt.floor}}
			err := p.Layers(context.Background(), func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err })
			if tt.fits && err != nil {
				t.Fatalf("Layers = %v; want the layer read", err)
			}
			if !tt.fits && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "times its compressed size")) {
				t.Fatalf("Layers = %v; want ErrTooLarge naming the ratio", err)
			}
		})
	}
}

// readTar reads every entry of a tar to its end, as an extractor does (and
// no further: not the compression's trailer).
func readTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if _, err := tr.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return err
		}
	}
}

// TestLayerChecksAfterTheTar: what follows the tar in a layer is checked
// too: a gzip trailer whose checksum is wrong makes the layer damaged
// (its digest matches), and bytes that do not match the layer's digest
// are refused, although the tar itself read fine.
func TestLayerChecksAfterTheTar(t *testing.T) {
	good := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: "content"}})
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 of the gzip trailer
	other := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: "other content"}})
	digest := func(b []byte) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))} }
	for _, tt := range []struct {
		name   string
		served []byte
		desc   v1.Descriptor
		want   error
	}{
		{"good", good, v1.Descriptor{MediaType: types.DockerLayer, Size: int64(len(good)), Digest: digest(good)}, nil},
		{"gzip checksum wrong", badCRC, v1.Descriptor{MediaType: types.DockerLayer, Size: int64(len(badCRC)), Digest: digest(badCRC)}, ErrDamaged},
		{"other bytes than the digest's", other, v1.Descriptor{MediaType: types.DockerLayer, Size: int64(len(other)), Digest: digest(good)}, ErrDigestMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Layers: []v1.Descriptor{tt.desc}}, blobs: oneBlob(tt.served),
				limits: sizeLimits{max: 64 << 20}}
			err := p.Layers(context.Background(), readTar)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Layers = %v; want %v", err, tt.want)
			}
		})
	}
}
