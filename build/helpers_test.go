package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNames(t *testing.T) {
	tests := []struct {
		fn       func(string) string
		name     string
		in, want string
	}{
		{shortName, "shortName", "docker.io/library/alpine:3.20", "alpine:3.20"},
		{shortName, "shortName", "docker.io/me/img:1", "me/img:1"},
		{shortName, "shortName", "127.0.0.1:5000/base/busybox:latest", "127.0.0.1:5000/base/busybox:latest"},
		{contextName, "contextName", "busybox:latest", "busybox"},
		{contextName, "contextName", "alpine:3.20", "alpine:3.20"},
		{platformPath, "platformPath", "linux/arm/v7", "linux_arm_v7"},
	}
	for _, tc := range tests {
		if got := tc.fn(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestNormalizePlatforms(t *testing.T) {
	got, err := normalizePlatforms([]string{"linux/amd64,linux/arm64", "linux/amd64", " linux/arm/v7 "})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if _, err := normalizePlatforms([]string{"not a platform!"}); err == nil {
		t.Error("took a bad platform")
	}
}

func TestLayoutDigest(t *testing.T) {
	dir := t.TempDir()
	index := `{"schemaVersion": 2, "manifests": [
 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:aaaa", "size": 1, "annotations": {"org.opencontainers.image.ref.name": "latest"}},
 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:bbbb", "size": 1, "annotations": {"org.opencontainers.image.ref.name": "v2"}}]}`
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{"latest": "sha256:aaaa", "v2": "sha256:bbbb"} {
		if got, err := layoutDigest(dir, tag); err != nil || got != want {
			t.Errorf("layoutDigest(%s) = %q, %v; want %q", tag, got, err, want)
		}
	}
	if _, err := layoutDigest(dir, "nope"); err == nil {
		t.Error("found an absent tag")
	}
}
