package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/dplug/dplug/internal/testplugin"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// byDigest serves blobs by their digest.
type byDigest map[v1.Hash][]byte

func (b byDigest) blob(_ context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	data, ok := b[d.Digest]
	if !ok {
		return nil, fmt.Errorf("no blob %s", d.Digest)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (b byDigest) add(mt types.MediaType, data []byte) v1.Descriptor {
	h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
	b[h] = data
	return v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: h}
}

// TestUnpackWarnsOnDiffIDCount: a config whose rootfs.diff_ids do not
// count the manifest's layers is unpacked with a warning; one that counts
// them is unpacked without.
func TestUnpackWarnsOnDiffIDCount(t *testing.T) {
	for _, tc := range []struct {
		diffIDs int
		warn    bool
	}{{1, false}, {0, true}, {2, true}} {
		t.Run(fmt.Sprint(tc.diffIDs), func(t *testing.T) {
			blobs := byDigest{}
			layer := blobs.add(types.DockerLayer, testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: "content"}}))
			ids := make([]string, tc.diffIDs)
			for i := range ids {
				ids[i] = fmt.Sprintf(`"sha256:%064d"`, i)
			}
			cfg := blobs.add(MediaTypeConfig, []byte(`{"Description":"x","Entrypoint":["/p"],"Interface":{"Types":["docker.volumedriver/1.0"],"Socket":"p.sock"},`+
				`"rootfs":{"type":"layers","diff_ids":[`+strings.Join(ids, ",")+`]}}`))
			p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Config: cfg, Layers: []v1.Descriptor{layer}}, blobs: blobs,
				limits: sizeLimits{max: 64 << 20}, log: slog.New(slog.DiscardHandler)}
			var logs bytes.Buffer
			dir := filepath.Join(t.TempDir(), "p")
			if err := Unpack(context.Background(), p, dir, WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), "diff_ids"); got != tc.warn {
				t.Errorf("%d diff_ids for 1 layer: warned %v; want %v (log: %s)", tc.diffIDs, got, tc.warn, logs.String())
			}
		})
	}
}

// cutBlobs serves each blob cut in half, the connection lost (retryable),
// and counts the layer fetches.
type cutBlobs struct {
	byDigest
	layerGets int
}

func (b *cutBlobs) blob(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	if d.MediaType == MediaTypeConfig {
		return b.byDigest.blob(ctx, d)
	}
	b.layerGets++
	data := b.byDigest[d.Digest]
	return io.NopCloser(io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(io.ErrUnexpectedEOF))), nil
}

// TestUnpackGivesUp: a layer whose download is cut every time is tried
// three times, then Unpack fails saying so.
func TestUnpackGivesUp(t *testing.T) {
	blobs := &cutBlobs{byDigest: byDigest{}}
	layer := blobs.add(types.DockerLayer, testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: strings.Repeat("0123456789abcdef", 1<<12)}}))
	cfg := blobs.add(MediaTypeConfig, []byte(`{"Description":"x","Entrypoint":["/p"],"Interface":{"Types":["docker.volumedriver/1.0"],"Socket":"p.sock"}}`))
	p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Config: cfg, Layers: []v1.Descriptor{layer}}, blobs: blobs,
		limits: sizeLimits{max: 64 << 20}, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := Unpack(ctx, p, filepath.Join(t.TempDir(), "p"))
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || blobs.layerGets != 3 {
		t.Fatalf("Unpack = %v after %d layer downloads; want it to give up after 3", err, blobs.layerGets)
	}
}
