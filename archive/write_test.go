package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestWriteDirRoundTrip: WriteDir writes "./" first, then every entry in
// lexical order (directories with a trailing slash, symlinks with their
// target, a second name of an inode as a hard link with no content, no
// user or group names), and Extract gives the same tree back.
func TestWriteDirRoundTrip(t *testing.T) {
	src := t.TempDir()
	for _, d := range []string{"bin", "d/e"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"bin/tool": "#!/bin/sh\n", "d/e/f": "deep", "empty": "", "a": "same"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(src, "a"), filepath.Join(src, "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("bin/tool", filepath.Join(src, "l")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteDir(context.Background(), &buf, src); err != nil {
		t.Fatal(err)
	}

	type hdr struct {
		Name, Link, Body string
		Type             byte
		Size             int64
	}
	var got []hdr
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: Uname %q Gname %q, want none", h.Name, h.Uname, h.Gname)
		}
		b, _ := io.ReadAll(tr)
		got = append(got, hdr{h.Name, h.Linkname, string(b), h.Typeflag, h.Size})
	}
	want := []hdr{
		{Name: "./", Type: tar.TypeDir},
		{Name: "a", Body: "same", Type: tar.TypeReg, Size: 4},
		{Name: "b", Link: "a", Type: tar.TypeLink},
		{Name: "bin/", Type: tar.TypeDir},
		{Name: "bin/tool", Body: "#!/bin/sh\n", Type: tar.TypeReg, Size: 10},
		{Name: "d/", Type: tar.TypeDir},
		{Name: "d/e/", Type: tar.TypeDir},
		{Name: "d/e/f", Body: "deep", Type: tar.TypeReg, Size: 4},
		{Name: "empty", Type: tar.TypeReg},
		{Name: "l", Link: "bin/tool", Type: tar.TypeSymlink},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}

	dst := t.TempDir()
	if err := Extract(context.Background(), bytes.NewReader(buf.Bytes()), dst); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(tree(t, src), tree(t, dst)); d != "" {
		t.Errorf("extracted tree (-src +dst):\n%s", d)
	}
	var sa, sb unix.Stat_t
	if unix.Lstat(filepath.Join(dst, "a"), &sa) != nil || unix.Lstat(filepath.Join(dst, "b"), &sb) != nil || sa.Ino != sb.Ino {
		t.Errorf("a and b are not one inode after the round trip")
	}
}

// TestWriteDirErrors: a missing directory and a canceled context are
// errors, not an empty archive.
func TestWriteDirErrors(t *testing.T) {
	if err := WriteDir(context.Background(), io.Discard, filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteDir of a missing dir = %v, want ErrNotExist", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WriteDir(ctx, io.Discard, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteDir canceled = %v, want context.Canceled", err)
	}
}
