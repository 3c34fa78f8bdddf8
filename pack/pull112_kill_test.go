package pack

import (
	"archive/tar"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestUnpackShortErrorPathsSymlinkedParent: when the target's parent is
// reached through a symlink, the extractor names paths under the real
// (resolved) temp dir; Unpack's errors still name them as rootfs/…, never
// the host's real or linked path. Kills pull.go:112's `err == nil` ->
// `err != nil` (the resolved temp dir left out of the paths to shorten).
func TestUnpackShortErrorPathsSymlinkedParent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
		want    string
	}{
		{"file where a dir goes", []entry{
			{hdr: tar.Header{Name: "f", Mode: 0o644}, body: "x"},
			{hdr: tar.Header{Name: "f/g", Mode: 0o644}, body: "x"},
		}, "rootfs/f"},
		{"name too long", []entry{
			{hdr: tar.Header{Name: "a/" + strings.Repeat("n", 300), Mode: 0o644}, body: "x"},
		}, "rootfs/a/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blobs := byDigest{}
			layer := blobs.add(types.DockerLayer, gzipEntries(t, tc.entries))
			cfg := blobs.add(MediaTypeConfig, []byte(`{"Description":"x","Entrypoint":["/p"],"Interface":{"Types":["docker.volumedriver/1.0"],"Socket":"p.sock"}}`))
			p := &Plugin{ref: "r/p:1", manifest: &v1.Manifest{Config: cfg, Layers: []v1.Descriptor{layer}}, blobs: blobs,
				limits: sizeLimits{max: 64 << 20}, log: slog.New(slog.DiscardHandler)}
			real := t.TempDir()
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := Unpack(ctx, p, filepath.Join(link, "out"))
			if err == nil {
				t.Fatal("Unpack succeeded; want an extraction error")
			}
			msg := err.Error()
			if strings.Contains(msg, real) || strings.Contains(msg, link) || strings.Contains(msg, pullTempMarker) {
				t.Errorf("error names the host path (real %s, linked %s): %s", real, link, msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name %s", msg, tc.want)
			}
			if entries, _ := os.ReadDir(real); len(entries) != 0 {
				t.Errorf("Unpack left %v behind", entries)
			}
		})
	}
}
