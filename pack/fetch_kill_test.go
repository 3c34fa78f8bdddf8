package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestPullProgressReports: a layer download reports its bytes while it
// runs, not on every read, and always once at the end with every byte.
func TestPullProgressReports(t *testing.T) {
	const size = 1000
	var got []Progress
	pr := &progressReader{
		rc:    io.NopCloser(iotest.OneByteReader(bytes.NewReader(make([]byte, size)))),
		fn:    func(p Progress) { got = append(got, p) },
		total: size,
	}
	if n, err := io.Copy(io.Discard, pr); n != size || err != nil {
		t.Fatalf("read %d bytes, %v; want %d", n, err, size)
	}
	if len(got) < 2 {
		t.Fatalf("reports = %+v; want some while the %d one-byte reads run, and the last", got, size)
	}
	if len(got) > size/10 {
		t.Errorf("%d reports for %d reads; want far fewer than one per read", len(got), size)
	}
	for i, p := range got {
		if p.Phase != PhasePulling || p.Total != size || p.Complete <= 0 || p.Complete > size {
			t.Errorf("report %d = %+v; want pulling, up to %d of %d", i, p, size, size)
		}
		if i > 0 && p.Complete < got[i-1].Complete {
			t.Errorf("report %d went back: %+v after %+v", i, p, got[i-1])
		}
	}
	if last := got[len(got)-1]; last.Complete != size {
		t.Errorf("last report = %+v; want all %d bytes", last, size)
	}
	if first := got[0]; first.Complete >= size {
		t.Errorf("first report = %+v; want it before the end", first)
	}
}

// TestPullProgressCountsLayers: the bytes a pull reports are the layer's,
// not the config's.
func TestPullProgressCountsLayers(t *testing.T) {
	host := newRegistry(t, nil)
	img := mustImage(t, testDir(t))
	if _, err := Push(context.Background(), img, host+"/p:1", anon); err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []Progress
	if err := Pull(context.Background(), host+"/p:1", filepath.Join(t.TempDir(), "p"), anon,
		WithProgress(func(p Progress) { got = append(got, p) })); err != nil {
		t.Fatal(err)
	}
	var totals []int64
	for _, p := range got {
		if p.Phase == PhasePulling {
			totals = append(totals, p.Total)
		}
	}
	if len(totals) == 0 {
		t.Fatalf("no pulling report: %+v", got)
	}
	for _, total := range totals {
		if total != m.Layers[0].Size {
			t.Errorf("pulling reports of %d bytes; want only the layer's %d (the config is %d): %+v", total, m.Layers[0].Size, m.Config.Size, got)
			break
		}
	}
}

// TestPickPlatformVariant: a platform with a variant picks that variant's
// manifest; one without picks the first of its OS and architecture.
func TestPickPlatformVariant(t *testing.T) {
	desc := func(n int, p string) v1.Descriptor {
		pl, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatal(err)
		}
		return v1.Descriptor{MediaType: types.DockerManifestSchema2, Size: 1, Platform: pl,
			Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064d", n)}}
	}
	idx := &v1.IndexManifest{Manifests: []v1.Descriptor{desc(1, "linux/amd64"), desc(2, "linux/arm/v6"), desc(3, "linux/arm/v7")}}
	for _, tc := range []struct {
		platform string
		want     int // 0: none
	}{{"linux/arm/v7", 3}, {"linux/arm/v6", 2}, {"linux/arm", 2}, {"linux/amd64", 1}, {"linux/arm/v5", 0}, {"linux/arm64", 0}} {
		got, err := pickPlatform("r/p:1", idx, tc.platform)
		switch {
		case tc.want == 0 && !errors.Is(err, ErrNotFound):
			t.Errorf("pickPlatform(%s) = %v, %v; want ErrNotFound", tc.platform, got.Platform, err)
		case tc.want != 0 && (err != nil || got.Digest != idx.Manifests[tc.want-1].Digest):
			t.Errorf("pickPlatform(%s) = %v, %v; want %s", tc.platform, got.Platform, err, idx.Manifests[tc.want-1].Platform)
		}
	}
}

// TestPickPlatformWithoutPlatforms: an index whose one entry names no
// platform is taken as the plugin whatever the platform asked for, unless
// that entry is itself an index; two such entries, or one that names
// another platform, are not; "" asks for the host's platform.
func TestPickPlatformWithoutPlatforms(t *testing.T) {
	desc := func(n int, mt types.MediaType, p string) v1.Descriptor {
		d := v1.Descriptor{MediaType: mt, Size: 1, Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064d", n)}}
		if p != "" {
			pl, err := v1.ParsePlatform(p)
			if err != nil {
				t.Fatal(err)
			}
			d.Platform = pl
		}
		return d
	}
	host := runtime.GOOS + "/" + runtime.GOARCH
	other := "linux/s390x"
	if runtime.GOARCH == "s390x" {
		other = "linux/ppc64le"
	}
	for _, tc := range []struct {
		name      string
		manifests []v1.Descriptor
		platform  string
		want      int // 0: ErrNotFound
	}{
		{"one without platform", []v1.Descriptor{desc(1, types.DockerManifestSchema2, "")}, "linux/arm64", 1},
		{"one OCI manifest without platform", []v1.Descriptor{desc(1, types.OCIManifestSchema1, "")}, "", 1},
		{"one index without platform", []v1.Descriptor{desc(1, types.OCIImageIndex, "")}, "linux/arm64", 0},
		{"two without platform", []v1.Descriptor{desc(1, types.DockerManifestSchema2, ""), desc(2, types.DockerManifestSchema2, "")}, "linux/arm64", 0},
		{"one of another platform", []v1.Descriptor{desc(1, types.DockerManifestSchema2, other)}, host, 0},
		{"host by default", []v1.Descriptor{desc(1, types.DockerManifestSchema2, other), desc(2, types.DockerManifestSchema2, host)}, "", 2},
		{"platformless skipped", []v1.Descriptor{desc(1, types.DockerManifestSchema2, ""), desc(2, types.DockerManifestSchema2, host)}, host, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := &v1.IndexManifest{Manifests: tc.manifests}
			got, err := pickPlatform("r/p:1", idx, tc.platform)
			switch {
			case tc.want == 0 && !errors.Is(err, ErrNotFound):
				t.Errorf("pickPlatform(%q) = %v, %v; want ErrNotFound", tc.platform, got.Digest, err)
			case tc.want != 0 && (err != nil || got.Digest != tc.manifests[tc.want-1].Digest):
				t.Errorf("pickPlatform(%q) = %v, %v; want entry %d", tc.platform, got.Digest, err, tc.want)
			}
		})
	}
	if _, err := pickPlatform("r/p:1", &v1.IndexManifest{}, "linux/amd64/v8/x"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("pickPlatform(a malformed platform) = %v; want a parse error", err)
	}
}

// TestBlobRefused: a registry that refuses a layer it listed (403) gets
// ErrUnauthorized, with the login hint for its host and the layer named.
func TestBlobRefused(t *testing.T) {
	ctx := context.Background()
	var refuse atomic.Bool
	host := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := host + "/team/plug:1.0"
	if _, err := Push(ctx, mustImage(t, testDir(t)), ref, anon); err != nil {
		t.Fatal(err)
	}
	p, err := Fetch(ctx, ref, anon)
	if err != nil {
		t.Fatal(err)
	}
	refuse.Store(true)
	err = p.Layers(ctx, func(io.Reader) error { return nil })
	layer := p.Manifest().Layers[0].Digest.String()
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "docker login "+host) || !strings.Contains(err.Error(), layer) {
		t.Errorf("Layers with the blob refused: %v; want ErrUnauthorized naming %s and the layer %s", err, host, layer)
	}
}
