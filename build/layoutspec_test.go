package build

import (
	"os"
	"path/filepath"
	"testing"
)

// TestParseLayoutSpec: PATH[:TAG][@DIGEST] splits with latest as the
// default tag (a colon in a directory name is not a tag), and a missing
// digest is the tagged manifest's in index.json, or the only one's.
func TestParseLayoutSpec(t *testing.T) {
	tagged, only := filepath.Join(t.TempDir(), "a:b", "tagged"), filepath.Join(t.TempDir(), "only")
	none := filepath.Join(t.TempDir(), "none") // no layout: read only without a digest
	for dir, index := range map[string]string{
		tagged: `{"manifests": [{"digest": "sha256:aaa", "annotations": {"org.opencontainers.image.ref.name": "latest"}},
			{"digest": "sha256:bbb", "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}`,
		only: `{"manifests": [{"digest": "sha256:ccc"}]}`,
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		spec, path, tag, dgst string
		err                   bool
	}{
		{spec: tagged, path: tagged, tag: "latest", dgst: "sha256:aaa"},
		{spec: tagged + ":v1", path: tagged, tag: "v1", dgst: "sha256:bbb"},
		{spec: tagged + ":v1@sha256:fff", path: tagged, tag: "v1", dgst: "sha256:fff"},
		{spec: tagged + ":v2", err: true},
		{spec: only + ":any", path: only, tag: "any", dgst: "sha256:ccc"},
		{spec: none + "@sha256:fff", path: none, tag: "latest", dgst: "sha256:fff"},
		{spec: none, err: true},
	} {
		path, tag, dgst, err := parseLayoutSpec(tc.spec)
		if (err != nil) != tc.err {
			t.Errorf("%s: error %v, want error %v", tc.spec, err, tc.err)
		}
		if !tc.err && (path != tc.path || tag != tc.tag || dgst != tc.dgst) {
			t.Errorf("%s: %q %q %q, want %q %q %q", tc.spec, path, tag, dgst, tc.path, tc.tag, tc.dgst)
		}
	}
}
