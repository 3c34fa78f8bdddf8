package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// manyFilesTar builds a layer shaped like a small-file rootfs: ndirs
// directories of perDir small files each, plus a symlink per directory.
func manyFilesTar(b *testing.B, ndirs, perDir int) []byte {
	b.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Unix(1700000000, 0)
	body := bytes.Repeat([]byte("x"), 700)
	for d := 0; d < ndirs; d++ {
		dn := fmt.Sprintf("usr/lib/pkg%03d/", d)
		if err := tw.WriteHeader(&tar.Header{Name: dn, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mt}); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < perDir; f++ {
			h := &tar.Header{Name: fmt.Sprintf("%sf%03d.so", dn, f), Typeflag: tar.TypeReg, Mode: 0o644,
				Size: int64(len(body)), ModTime: mt}
			if err := tw.WriteHeader(h); err != nil {
				b.Fatal(err)
			}
			if _, err := tw.Write(body); err != nil {
				b.Fatal(err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: dn + "link.so", Typeflag: tar.TypeSymlink, Linkname: "f000.so", ModTime: mt}); err != nil {
			b.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkExtractManyFiles extracts about 2,000 small files in 100
// directories, the shape where per-entry syscalls dominate.
func BenchmarkExtractManyFiles(b *testing.B) {
	tb := manyFilesTar(b, 100, 20)
	parent := b.TempDir()
	b.SetBytes(int64(len(tb)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst := filepath.Join(parent, fmt.Sprint(i))
		if err := Extract(context.Background(), bytes.NewReader(tb), dst); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(dst); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
