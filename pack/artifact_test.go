package pack

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dplug/dplug/internal/testplugin"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type rawLayer struct {
	mt   types.MediaType
	data []byte
}

// pushRaw writes an artifact blob by blob, so tests can build manifests
// dplug itself never writes (OCI, plain tar, several layers, zstd, ...).
func pushRaw(t *testing.T, ref string, manifestType, configType types.MediaType, config []byte, layers ...rawLayer) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	blob := func(mt types.MediaType, b []byte) descriptor {
		l := static.NewLayer(b, mt)
		if err := remote.WriteLayer(r.Context(), l); err != nil {
			t.Fatal(err)
		}
		d, _ := l.Digest()
		return descriptor{MediaType: mt, Digest: d.String(), Size: int64(len(b))}
	}
	cd := blob(configType, config)
	var ls []descriptor
	for _, l := range layers {
		ls = append(ls, blob(l.mt, l.data))
	}
	m := struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
		Config        descriptor      `json:"config"`
		Layers        []descriptor    `json:"layers"`
	}{2, manifestType, cd, ls}
	raw, _ := json.Marshal(m)
	if err := remote.Put(r, rawManifest{raw: raw, mt: manifestType}); err != nil {
		t.Fatal(err)
	}
}

func TestPullArtifactVariants(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	config := []byte(`{"Description":"d","Documentation":"d","Entrypoint":["/a"],"Interface":{"Socket":"s.sock","Types":["docker.volumedriver/1.0"]},"rootfs":{"type":"layers","diff_ids":[]}}` + "\n")
	dir := testplugin.File{Mode: fs.ModeDir | 0o755}
	base := testplugin.TarGz(t, map[string]testplugin.File{"./": dir, "a": {Body: "A"}, "dir/": dir, "dir/b": {Body: "B"}})
	whiteout := testplugin.TarGz(t, map[string]testplugin.File{".wh.a": {}, "dir/c": {Body: "C"}})
	tests := []struct {
		name     string
		manifest types.MediaType
		config   types.MediaType
		layers   []rawLayer
		want     map[string]string // files in rootfs, or nil when an error is expected
		err      error
	}{
		{"oci manifest, oci gzip layer", types.OCIManifestSchema1, MediaTypeConfig,
			[]rawLayer{{types.OCILayer, base}}, map[string]string{"a": "A", "dir/b": "B"}, nil},
		{"plain tar layer", types.DockerManifestSchema2, MediaTypeConfig,
			[]rawLayer{{types.DockerUncompressedLayer, base}}, map[string]string{"a": "A", "dir/b": "B"}, nil},
		{"tar media type, gzip bytes", types.DockerManifestSchema2, MediaTypeConfig,
			[]rawLayer{{types.DockerUncompressedLayer, base}}, map[string]string{"a": "A", "dir/b": "B"}, nil},
		{"two layers with a whiteout", types.DockerManifestSchema2, MediaTypeConfig,
			[]rawLayer{{types.DockerLayer, base}, {types.DockerLayer, whiteout}},
			map[string]string{"dir/b": "B", "dir/c": "C"}, nil},
		{"zstd layer", types.OCIManifestSchema1, MediaTypeConfig,
			[]rawLayer{{types.OCILayerZStd, []byte("(\xb5/\xfd")}}, nil, ErrUnsupported},
		{"container image config", types.OCIManifestSchema1, types.OCIConfigJSON,
			[]rawLayer{{types.OCILayer, base}}, nil, ErrNotPlugin},
		{"no layers", types.DockerManifestSchema2, MediaTypeConfig, nil, nil, ErrNotPlugin},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := host + "/variants/p:" + string(rune('a'+i))
			pushRaw(t, ref, tt.manifest, tt.config, config, tt.layers...)
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			err := Pull(ctx, ref, out, anon)
			if tt.want == nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Pull = %v; want %v", err, tt.err)
				}
				if entries, _ := os.ReadDir(parent); len(entries) != 0 {
					t.Errorf("Pull left %v behind", entries)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			filepath.Walk(filepath.Join(out, "rootfs"), func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					b, _ := os.ReadFile(p)
					rel, _ := filepath.Rel(filepath.Join(out, "rootfs"), p)
					got[rel] = string(b)
				}
				return nil
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rootfs (-want +got):\n%s", diff)
			}
		})
	}
}
