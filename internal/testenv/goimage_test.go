package testenv

import (
	"archive/tar"
	"errors"
	"io"
	"slices"
	"testing"
)

// TestGoImage checks the toolchain image: reproducible (a fresh build in an
// empty cache has the cached image's digest), Docker Hub golang's
// environment, and the files a Dockerfile RUN needs.
func TestGoImage(t *testing.T) {
	Short(t)
	img := GoImage(t)
	fresh, err := MakeGoImage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Digest != img.Digest {
		t.Errorf("rebuilt image digest %s, cached %s: the image is not reproducible", fresh.Digest, img.Digest)
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"GOPATH=/go", "GOTOOLCHAIN=local"} {
		if !slices.Contains(cf.Config.Env, e) {
			t.Errorf("env %v lacks %s", cf.Config.Env, e)
		}
	}
	layers, err := img.Image.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	want := map[string]bool{"bin/sh": false, "usr/local/go/bin/go": false, "usr/local/go/src/fmt/print.go": false,
		"etc/ssl/certs/ca-certificates.crt": false, "tmp/": false}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := want[h.Name]; ok {
			want[h.Name] = true
		}
		if h.Name == "usr/local/go/test/" {
			t.Errorf("GOROOT/test should be left out")
		}
	}
	for name, found := range want {
		if !found {
			t.Errorf("image lacks %s", name)
		}
	}
}
