package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// layerBytes packs dir and returns the compressed layer and its digests.
func layerBytes(t *testing.T, dir string, opts ...Option) (gz []byte, digest, diffID string) {
	t.Helper()
	img := mustImage(t, dir, opts...)
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ls[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if gz, err = io.ReadAll(rc); err != nil {
		t.Fatal(err)
	}
	d, _ := ls[0].Digest()
	di, _ := ls[0].DiffID()
	return gz, d.String(), di.String()
}

// TestLayerSameBytesAnyCores: the layer is compressed on every core, and
// its bytes do not depend on how many there are, nor on the run.
func TestLayerSameBytesAnyCores(t *testing.T) {
	dir := t.TempDir()
	fillRootfs(t, dir, 6<<20) // several compression blocks
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one, d1, id1 := layerBytes(t, dir)
	runtime.GOMAXPROCS(4)
	four, d4, id4 := layerBytes(t, dir)
	again, _, _ := layerBytes(t, dir)
	if !bytes.Equal(one, four) || d1 != d4 || id1 != id4 {
		t.Fatalf("GOMAXPROCS=1 gave %s (%d bytes), GOMAXPROCS=4 %s (%d bytes)", d1, len(one), d4, len(four))
	}
	if !bytes.Equal(four, again) {
		t.Fatal("two packs of the same tree differ")
	}

	// The digest is the compressed bytes', the diff_id the tar's, and the
	// gzip is ordinary gzip (members, one per 1 MiB block, which dockerd's
	// reader and Go's compress/gzip read as one stream) holding the tar.
	if want := fmt.Sprintf("sha256:%x", sha256.Sum256(one)); d1 != want {
		t.Errorf("digest %s; the bytes hash to %s", d1, want)
	}
	zr, err := gzip.NewReader(bytes.NewReader(one))
	if err != nil {
		t.Fatal(err)
	}
	tarball, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("sha256:%x", sha256.Sum256(tarball)); id1 != want {
		t.Errorf("diff_id %s; the tar hashes to %s", id1, want)
	}
	n := 0
	for tr := tar.NewReader(bytes.NewReader(tarball)); ; n++ {
		if _, err := tr.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the layer's tar: %v", err)
		}
	}
	if n < 6 {
		t.Errorf("the tar has %d entries", n)
	}

	// The same tar through single-stream gzip: other bytes (the layer
	// format is block-parallel), same diff_id.
	var single bytes.Buffer
	zw, _ := kgzip.NewWriterLevel(&single, kgzip.DefaultCompression)
	zw.Write(tarball)
	zw.Close()
	if ratio := float64(len(one)) / float64(single.Len()); ratio > 1.02 {
		t.Errorf("block-parallel layer is %d bytes, %.3f× single-stream gzip's %d", len(one), ratio, single.Len())
	}
}

// BenchmarkLayerGzip compares packing with block-parallel compression
// (what Image does) against the same tar through single-stream gzip at
// the same level (SPEC §7: ≥ 1.7× on 2 cores).
func BenchmarkLayerGzip(b *testing.B) {
	const size = 32 << 20
	dir := b.TempDir()
	fillRootfs(b, dir, size)
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	if err := writeTree(tw, dir+"/rootfs", false, &progressWriter{fn: func(Progress) {}}); err != nil {
		b.Fatal(err)
	}
	tw.Close()
	b.Run("single-stream", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			h := sha256.New()
			zw, _ := kgzip.NewWriterLevel(h, kgzip.DefaultCompression)
			zw.Write(tarball.Bytes())
			zw.Close()
		}
	})
	b.Run("image", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			img, err := Image(context.Background(), dir)
			if err != nil {
				b.Fatal(err)
			}
			img.(io.Closer).Close()
		}
	})
}
