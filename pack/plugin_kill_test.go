package pack

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testplugin"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layersOf reads the one layer data through Plugin.Layers, the layer's
// digest as given (or data's when dg is nil), and returns Layers' error.
func layersOf(t *testing.T, data []byte, dg func(*v1.Descriptor)) error {
	t.Helper()
	blobs := byDigest{}
	layer := blobs.add(types.DockerLayer, data)
	if dg != nil {
		dg(&layer)
		blobs[layer.Digest] = data
	}
	p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Layers: []v1.Descriptor{layer}}, blobs: blobs,
		limits: sizeLimits{max: 64 << 20}, log: slog.New(slog.DiscardHandler)}
	return p.Layers(context.Background(), func(r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
}

// TestLayerGzipMagicWithoutGzip: a layer that starts with gzip's magic
// number but is not gzip fails, whether or not its bytes match the
// digest; a digest mismatch is reported as such, first.
func TestLayerGzipMagicWithoutGzip(t *testing.T) {
	data := append([]byte{0x1f, 0x8b}, []byte("not a gzip header at all, just bytes")...)
	if err := layersOf(t, data, nil); err == nil || !contains(err, "decompressing") {
		t.Errorf("a layer with gzip's magic and no gzip: %v; want a decompressing error", err)
	}
	wrong := func(d *v1.Descriptor) { d.Digest.Hex = "00" + d.Digest.Hex[2:] }
	if err := layersOf(t, data, wrong); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("the same, with another digest: %v; want ErrDigestMismatch", err)
	}
}

// TestLayerDigestAlgorithm: a layer digest that is not sha256 is refused
// as unsupported (its bytes cannot be checked), after reading it.
func TestLayerDigestAlgorithm(t *testing.T) {
	data := []byte{}
	sha512 := func(d *v1.Descriptor) { d.Digest = v1.Hash{Algorithm: "sha512", Hex: d.Digest.Hex + d.Digest.Hex} }
	if err := layersOf(t, data, sha512); !errors.Is(err, ErrUnsupported) || !contains(err, `"sha512"`) {
		t.Errorf("a sha512 layer digest: %v; want ErrUnsupported naming sha512", err)
	}
}

// TestParseManifestTypes: schema 1 manifests are refused as not a
// plugin, other media types as unsupported, and JSON that does not parse
// as a manifest says so.
func TestParseManifestTypes(t *testing.T) {
	for _, tc := range []struct {
		mt   types.MediaType
		want error
	}{
		{types.DockerManifestSchema1, ErrNotPlugin},
		{types.DockerManifestSchema1Signed, ErrNotPlugin},
		{types.OCIImageIndex, ErrUnsupported},
		{"text/plain", ErrUnsupported},
	} {
		if _, err := parseManifest(tc.mt, []byte(`{}`)); !errors.Is(err, tc.want) {
			t.Errorf("parseManifest(%s) = %v; want %v", tc.mt, err, tc.want)
		}
	}
	if _, err := parseManifest(types.DockerManifestSchema2, []byte(`{"layers": 1`)); err == nil || !contains(err, "parsing manifest") {
		t.Errorf("parseManifest(broken JSON) = %v; want a parsing error", err)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

// TestRatioBoundNamedOnlyWhenTighter: when the ratio bound and the size
// limit are the same number, the layer is stopped there and the error
// names the size limit (--max-size), not a decompression bomb; a ratio
// bound below it is named.
func TestRatioBoundNamedOnlyWhenTighter(t *testing.T) {
	const limit = 1 << 20
	b := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: strings.Repeat("\x00", 2*limit)}})
	blobs := byDigest{}
	desc := blobs.add(types.DockerLayer, b)
	if 100*desc.Size >= limit {
		t.Fatalf("precondition: the layer is %d bytes, 100 times that is not below %d", desc.Size, limit)
	}
	for _, tc := range []struct {
		floor int64
		want  string
	}{{limit, "raise --max-size"}, {limit - 1, "times its compressed size"}} {
		p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Layers: []v1.Descriptor{desc}}, blobs: blobs,
			limits: sizeLimits{max: limit, ratio: true, floor: tc.floor}, log: slog.New(slog.DiscardHandler)}
		err := p.Layers(context.Background(), func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err })
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("limit %d, ratio floor %d: %v; want ErrTooLarge saying %q", limit, tc.floor, err, tc.want)
		}
	}
}
