//go:build linux

package treestamp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
)

// tree makes a small tree: a dir, files, a symlink and a hard link.
func tree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"bin", "etc", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, s := range map[string]string{"bin/tool": "#!/bin/sh\n", "etc/plug.conf": "x=1\n", "data/a": "aaaa"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("tool", filepath.Join(dir, "bin/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "bin/tool"), filepath.Join(dir, "bin/hard")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// settle waits (polling, with a deadline) until the file system's clock is
// past every stamp in dir: the ctime of a file created beside it now is
// newer than dir's newest stamp, so any change from now on gets a new
// ctime.
func settle(t *testing.T, dir string) {
	t.Helper()
	_, newest, err := Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(filepath.Dir(dir), "probe")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := os.WriteFile(probe, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(probe)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(probe)
		if st, _ := Of(fi); st.Ctime > newest {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the file system's clock did not tick")
		}
		time.Sleep(time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTreeSeesEveryChange(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
	}{
		{"one byte, same size, mtime restored", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "etc/plug.conf")
			fi, err := os.Stat(p)
			must(t, err)
			must(t, os.WriteFile(p, []byte("x=2\n"), 0o644))
			must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
			if fi2, _ := os.Stat(p); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
				t.Fatal("precondition: size and mtime kept")
			}
		}},
		{"mtime only", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "etc/plug.conf")
			fi, err := os.Stat(p)
			must(t, err)
			must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime().Add(time.Second)))
		}},
		{"mode", func(t *testing.T, dir string) {
			must(t, os.Chmod(filepath.Join(dir, "etc/plug.conf"), 0o600))
		}},
		{"uid", func(t *testing.T, dir string) {
			testenv.RequireRoot(t)
			must(t, os.Lchown(filepath.Join(dir, "etc/plug.conf"), 1000, -1))
		}},
		{"gid", func(t *testing.T, dir string) {
			testenv.RequireRoot(t)
			must(t, os.Lchown(filepath.Join(dir, "etc/plug.conf"), -1, 1000))
		}},
		{"symlink retargeted, same length", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "bin/link")
			must(t, os.Remove(p))
			must(t, os.Symlink("hard", p))
		}},
		{"renamed, same size", func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "data/a"), filepath.Join(dir, "data/b")))
		}},
		{"added empty file", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "data/new"), nil, 0o644))
		}},
		{"removed file", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "data/a")))
		}},
		{"removed empty dir", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "data/a")))
			settle(t, dir)
			before, _, err := Tree(dir)
			must(t, err)
			must(t, os.Remove(filepath.Join(dir, "data")))
			if after, _, _ := Tree(dir); after == before {
				t.Fatal("removing an empty dir left the fingerprint as it was")
			}
		}},
		{"hard link added", func(t *testing.T, dir string) {
			must(t, os.Link(filepath.Join(dir, "data/a"), filepath.Join(dir, "etc/a")))
		}},
		{"replaced by a copy (new inode, same everything else)", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "data/a")
			fi, err := os.Stat(p)
			must(t, err)
			must(t, os.Remove(p))
			must(t, os.WriteFile(p, []byte("aaaa"), 0o644))
			must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t)
			settle(t, dir)
			before, _, err := Tree(dir)
			must(t, err)
			if again, _, _ := Tree(dir); again != before {
				t.Fatalf("an unchanged tree fingerprints %s, then %s", before, again)
			}
			tt.change(t, dir)
			after, _, err := Tree(dir)
			must(t, err)
			if after == before {
				t.Fatal("the change left the fingerprint as it was")
			}
		})
	}
}

// TestTreeNewest: Tree's newest is the latest mtime or ctime in the tree,
// whichever is later, wherever the entry is.
func TestTreeNewest(t *testing.T) {
	dir := tree(t)
	settle(t, dir)
	p := filepath.Join(dir, "etc/plug.conf")
	future := time.Now().Add(time.Hour)
	must(t, os.Chtimes(p, future, future))
	_, newest, err := Tree(dir)
	must(t, err)
	if newest != future.UnixNano() {
		t.Errorf("newest %d; want the future mtime %d", newest, future.UnixNano())
	}
	must(t, os.Chtimes(p, time.Unix(1, 0), time.Unix(1, 0)))
	fi, err := os.Lstat(p)
	must(t, err)
	st, _ := Of(fi)
	if _, newest, _ = Tree(dir); newest != st.Ctime {
		t.Errorf("newest %d; want the ctime of the last change %d", newest, st.Ctime)
	}
}

// TestWalk: every entry, the root as ".", in lexical order, with its
// stamp, and a symlink's target (only a symlink's).
func TestWalk(t *testing.T) {
	dir := tree(t)
	var rels []string
	got := map[string]Entry{}
	must(t, Walk(dir, func(e Entry) error {
		rels = append(rels, e.Rel)
		got[e.Rel] = e
		return nil
	}))
	want := []string{".", "bin", "bin/hard", "bin/link", "bin/tool", "data", "data/a", "etc", "etc/plug.conf"}
	if !slices.Equal(rels, want) {
		t.Fatalf("walked %q; want %q", rels, want)
	}
	for _, rel := range want {
		fi, err := os.Lstat(filepath.Join(dir, rel))
		must(t, err)
		st, ok := Of(fi)
		if !ok {
			t.Fatal("no stamp from lstat")
		}
		e := got[rel]
		if e.Stamp != st || e.Mode != fi.Mode() || e.Size != fi.Size() {
			t.Errorf("%s: entry %+v; lstat gives mode %v size %d stamp %+v", rel, e, fi.Mode(), fi.Size(), st)
		}
		wantTarget := ""
		if rel == "bin/link" {
			wantTarget = "tool"
		}
		if e.Target != wantTarget {
			t.Errorf("%s: target %q; want %q", rel, e.Target, wantTarget)
		}
	}
	if h := got["bin/hard"]; h.Nlink != 2 || h.Ino != got["bin/tool"].Ino {
		t.Errorf("hard link: nlink %d ino %d; want 2 and bin/tool's %d", h.Nlink, h.Ino, got["bin/tool"].Ino)
	}
	// The files were created by this process: they are its effective ids'.
	uid, gid := uint64(os.Geteuid()), uint64(os.Getegid())
	if h := got["bin/hard"]; h.UID != uid || h.GID != gid {
		t.Errorf("owner %d:%d; want %d:%d", h.UID, h.GID, uid, gid)
	}
}

func TestWalkErrors(t *testing.T) {
	dir := tree(t)
	stop := errors.New("stop")
	n := 0
	if err := Walk(dir, func(Entry) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: Walk gave %v after %d calls; want it after 1", err, n)
	}
	if _, _, err := Tree(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing root: %v; want ErrNotExist", err)
	}
	if _, ok := Of(fakeInfo{}); ok {
		t.Error("Of gave a stamp for a FileInfo with no Stat_t")
	}
}

type fakeInfo struct{ fs.FileInfo }

func (fakeInfo) Sys() any { return nil }

// TestWriteEncoding pins the bytes Write feeds a hash: the layer cache's
// keys are made of them, so a change here must come with a new
// cacheFormat (pack) and reuseFormat (build).
func TestWriteEncoding(t *testing.T) {
	st := Stamp{Mtime: 1, Ctime: 2, UID: 3, GID: 4, Ino: 5, Nlink: 6, Dev: 7, Rdev: 8}
	tests := []struct {
		name string
		e    Entry
		want string // hex of the bytes fed
	}{
		{"file", Entry{Rel: "a", Mode: 0o644, Size: 9, Stamp: st}, "6100" +
			"a401000000000000" + "0900000000000000" + "0100000000000000" + "0200000000000000" +
			"0300000000000000" + "0400000000000000" + "0500000000000000" + "0600000000000000" +
			"0700000000000000" + "0800000000000000"},
		{"symlink", Entry{Rel: "l", Mode: fs.ModeSymlink | 0o777, Size: 1, Target: "t", Stamp: st}, "6c00" +
			"ff01000800000000" + "0100000000000000" + "0100000000000000" + "0200000000000000" +
			"0300000000000000" + "0400000000000000" + "0500000000000000" + "0600000000000000" +
			"0700000000000000" + "0800000000000000" + "7400"},
		{"a file's target is not fed", Entry{Rel: "a", Mode: 0o644, Size: 9, Target: "t", Stamp: st}, "6100" +
			"a401000000000000" + "0900000000000000" + "0100000000000000" + "0200000000000000" +
			"0300000000000000" + "0400000000000000" + "0500000000000000" + "0600000000000000" +
			"0700000000000000" + "0800000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			tt.e.Write(h)
			if got := hex.EncodeToString(h.b); got != tt.want {
				t.Errorf("fed %s\nwant %s", got, tt.want)
			}
		})
	}
}

// recorder is a hash.Hash that keeps what it is fed.
type recorder struct{ b []byte }

func (r *recorder) Write(p []byte) (int, error) { r.b = append(r.b, p...); return len(p), nil }
func (r *recorder) Sum(b []byte) []byte         { s := sha256.Sum256(r.b); return append(b, s[:]...) }
func (r *recorder) Reset()                      { r.b = nil }
func (r *recorder) Size() int                   { return sha256.Size }
func (r *recorder) BlockSize() int              { return sha256.BlockSize }
