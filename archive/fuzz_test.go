package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzExtract feeds arbitrary bytes as a tar stream: Extract may fail, but
// must never panic nor create anything outside dst. Seeds live in
// testdata/fuzz/FuzzExtract; more are added from the table tests.
func FuzzExtract(f *testing.F) {
	f.Add(mktar(f, file("a", "x"), symlink("l", "/etc"), file("l/passwd", "p")))
	f.Add(mktar(f, symlink("up", "../.."), file("up/x", "x")))
	f.Add(mktar(f, dir("d"), symlink("d/s", ".."), symlink("d/s2", "s/.."), file("d/s2/x", "x")))
	f.Add(mktar(f, file("a", "x"), hardlink("b", "a"), hardlink("c", "../a")))
	f.Add(mktar(f, dir("d"), file("d/x", "1"), file("d/.wh.x", ""), file("d/.wh..wh..opq", "")))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "dst")
		_ = Extract(context.Background(), bytes.NewReader(data), dst, WithMaxEntries(200), WithMaxBytes(1<<20))
		ents, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() != "dst" {
				t.Fatalf("wrote outside dst: %s", e.Name())
			}
		}
		// Every relative symlink left behind stays inside dst lexically.
		_ = filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.Type()&os.ModeSymlink == 0 {
				return nil
			}
			l, _ := os.Readlink(p)
			if strings.HasPrefix(l, "/") {
				return nil
			}
			rel, _ := filepath.Rel(dst, filepath.Join(filepath.Dir(p), l))
			if strings.HasPrefix(rel, "..") {
				t.Fatalf("symlink %s -> %s escapes dst", p, l)
			}
			return nil
		})
		_ = filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o700) // let t.TempDir clean up
			}
			return nil
		})
	})
}
