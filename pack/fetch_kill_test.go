package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
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
