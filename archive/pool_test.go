package archive

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPoolOrdering: files written by the pool are all there, with their
// content, mode and time, when Extract returns; an entry that links to,
// replaces or removes what the pool may still be writing waits for it.
func TestPoolOrdering(t *testing.T) {
	var ents []ent
	ents = append(ents, dir("d/"))
	for i := range 200 {
		ents = append(ents, file(fmt.Sprintf("d/f%03d", i), strings.Repeat(fmt.Sprint(i), 100+i)))
	}
	ents = append(ents,
		hardlink("d/h", "d/f150"),  // needs f150 written
		file("d/f003", "replaced"), // replaces a pool file
		file("e/deep/g", "g"),      // parents made by mkdirAll
	)
	dst := filepath.Join(t.TempDir(), "dst")
	if err := Extract(context.Background(), bytes.NewReader(mktar(t, ents...)), dst); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		p := filepath.Join(dst, fmt.Sprintf("d/f%03d", i))
		want := strings.Repeat(fmt.Sprint(i), 100+i)
		if i == 3 {
			want = "replaced"
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Fatalf("%s: %q, %v; want %d bytes", p, got, err, len(want))
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o644 || !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: mode %v, mtime %v", p, fi.Mode(), fi.ModTime())
		}
	}
	a, _ := os.Stat(filepath.Join(dst, "d/h"))
	b, _ := os.Stat(filepath.Join(dst, "d/f150"))
	if !os.SameFile(a, b) {
		t.Error("d/h is not a hard link to d/f150")
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "e/deep/g")); string(got) != "g" {
		t.Errorf("e/deep/g = %q", got)
	}
}

// TestPoolSymlinkSwap: a directory the pool writes into, replaced by a
// symlink pointing outside, never lets a later file out.
func TestPoolSymlinkSwap(t *testing.T) {
	outside := t.TempDir()
	var ents []ent
	for i := range 50 {
		ents = append(ents, file(fmt.Sprintf("d/f%02d", i), "x"))
	}
	ents = append(ents, symlink("d", outside), file("d/escaped", "boom"))
	for i := range 50 {
		ents = append(ents, file(fmt.Sprintf("d/g%02d", i), "y"))
	}
	dst := filepath.Join(t.TempDir(), "dst")
	_ = Extract(context.Background(), bytes.NewReader(mktar(t, ents...)), dst)
	if es, _ := os.ReadDir(outside); len(es) != 0 {
		t.Fatalf("files written outside the destination: %v", es)
	}
	if got, err := os.ReadFile(filepath.Join(dst, outside, "escaped")); err != nil || string(got) != "boom" {
		t.Errorf("the file below the swapped link: %q, %v; want it inside dst, at the link's target resolved in dst", got, err)
	}
}

// TestPoolCancel: a cancelled extraction returns, and writes nothing
// afterwards.
func TestPoolCancel(t *testing.T) {
	var ents []ent
	for i := range 500 {
		ents = append(ents, file(fmt.Sprintf("d%d/f%03d", i%7, i), "content"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dst := filepath.Join(t.TempDir(), "dst")
	r := &cancelAfter{r: bytes.NewReader(mktar(t, ents...)), n: 200 << 10, cancel: cancel}
	if err := Extract(ctx, r, dst); err == nil {
		t.Fatal("a cancelled extraction succeeded")
	}
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Error("something was written into dst after Extract returned")
	}
}

// cancelAfter cancels its context once n bytes have been read.
type cancelAfter struct {
	r      *bytes.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// TestDirModeUnderUmask: a directory made with Mkdir's mode is only left
// so when the umask took nothing away; under umask 0222 the owner must
// still be able to write into it until the end, and the final modes are
// the archive's.
func TestDirModeUnderUmask(t *testing.T) {
	old := unix.Umask(0o222)
	defer unix.Umask(old)
	ro := dir("d/")
	ro.mode = 0o555
	dst := filepath.Join(t.TempDir(), "dst")
	if err := Extract(context.Background(), bytes.NewReader(mktar(t, ro, file("d/f", "x"))), dst); err != nil {
		t.Fatal(err)
	}
	unix.Umask(old)
	fi, err := os.Stat(filepath.Join(dst, "d"))
	if err != nil || fi.Mode().Perm() != 0o555 {
		t.Errorf("d: %v, %v; want 0555", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "d/f")); string(got) != "x" {
		t.Errorf("d/f = %q", got)
	}
}

// TestWriteback: WithWriteback starts the writeback of every regular file
// with content (the pool's and the large ones written directly), once,
// after its content is written; never without the option, never for an
// empty file.
func TestWriteback(t *testing.T) {
	var mu sync.Mutex
	var got []string
	old := writeback
	writeback = func(f *os.File) {
		fi, err := f.Stat()
		mu.Lock()
		defer mu.Unlock()
		if err != nil || fi.Size() == 0 {
			t.Errorf("writeback of %s before its content was written (%v)", f.Name(), err)
		}
		got = append(got, filepath.Base(f.Name()))
		old(f)
	}
	t.Cleanup(func() { writeback = old })
	ents := []ent{dir("d/"), file("d/small", "x"), file("d/empty", ""), file("d/big", strings.Repeat("b", asyncMax+1))}
	for _, on := range []bool{false, true} {
		got = nil
		dst := filepath.Join(t.TempDir(), "dst")
		if err := Extract(context.Background(), bytes.NewReader(mktar(t, ents...)), dst, WithWriteback(on)); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		want := []string(nil)
		if on {
			want = []string{"big", "small"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("WithWriteback(%t): writeback of %v; want %v", on, got, want)
		}
	}
}
