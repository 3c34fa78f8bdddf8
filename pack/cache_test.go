//go:build linux

package pack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/internal/testenv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// shortRacyWindow makes trees settle in 50 ms instead of 2 s.
func shortRacyWindow(t *testing.T) {
	t.Helper()
	old := racyWindow
	racyWindow = 50 * time.Millisecond
	t.Cleanup(func() { racyWindow = old })
}

// settle waits (polling, with a deadline) until no entry of dir's rootfs
// changed within racyWindow, so that the cache may remember it.
func settle(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, racy, err := treeKey(filepath.Join(dir, "rootfs"), makeOptions())
		if err != nil {
			t.Fatal(err)
		}
		if !racy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the rootfs never settled")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// packed packs dir with the cache and says whether the layer came from it
// on its timestamps alone (no content read). A layer whose digests the
// cache gave after hashing the tree again has img.layer.verified set.
func packed(t *testing.T, dir, cache string, opts ...Option) (digest v1.Hash, hit bool, img *pluginImage) {
	t.Helper()
	img = mustImage(t, dir, append(opts, WithCache(cache))...).(*pluginImage)
	return img.layer.digest, img.layer.lazy != nil && !img.layer.verified, img
}

// strictEntries lists the cache's timestamp-keyed entries (not the loose,
// content-verified ones).
func strictEntries(t *testing.T, cache string) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(cache, "*.json"))
	var es []string
	for _, e := range all {
		if !strings.HasPrefix(filepath.Base(e), "loose-") {
			es = append(es, e)
		}
	}
	return es
}

// truth packs dir without the cache.
func truth(t *testing.T, dir string, opts ...Option) v1.Hash {
	t.Helper()
	return mustImage(t, dir, opts...).(*pluginImage).layer.digest
}

func TestCacheReusesUnchangedTree(t *testing.T) {
	shortRacyWindow(t)
	dir, cache := testDir(t), t.TempDir()
	settle(t, dir)
	first, hit, img1 := packed(t, dir, cache)
	if hit {
		t.Fatal("first pack came from an empty cache")
	}
	again, hit, img2 := packed(t, dir, cache)
	if !hit {
		t.Fatal("second pack of an unchanged tree packed again; want the cached layer")
	}
	if again != first {
		t.Fatalf("cached digest %s; packed %s", again, first)
	}
	d1, _ := img1.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("manifest digest %s from the cache, %s packed", d2, d1)
	}
	// Checking the entrypoint does not unpack the cached layer.
	if _, err := CheckImage(img2, ""); err != nil {
		t.Fatal(err)
	}
	if img2.layer.f != nil {
		t.Error("CheckImage packed the cached layer")
	}
	// Reading it packs it, to the same bytes.
	want, _, _ := layerBytes(t, dir)
	rc, err := img2.layer.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if string(got) != string(want) {
		t.Errorf("the cached layer's bytes (%d) differ from a fresh pack's (%d)", len(got), len(want))
	}
	// Another level is another layer.
	if _, hit, _ := packed(t, dir, cache, WithCompressionLevel(1)); hit {
		t.Error("level 1 reused the level-6 layer")
	}
	if _, hit, _ := packed(t, dir, cache, WithPreserveTimes(true)); hit {
		t.Error("WithPreserveTimes reused the normalised layer")
	}
}

// TestCacheSeesEveryChange: after any change, settled (so the racy rule
// does not hide a key that misses it), the cache must not give the old
// digest: the digest is the one a fresh pack gives.
func TestCacheSeesEveryChange(t *testing.T) {
	shortRacyWindow(t)
	root := os.Geteuid() == 0
	tests := []struct {
		name   string
		change func(t *testing.T, rootfs string)
		same   bool // the layer does not change (only the key must)
	}{
		{"one byte, same size, mtime restored", func(t *testing.T, rootfs string) {
			p := filepath.Join(rootfs, "etc/plug.conf")
			fi, _ := os.Stat(p)
			if err := os.WriteFile(p, []byte("x=2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			if fi2, _ := os.Stat(p); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
				t.Fatal("precondition: size and mtime kept")
			}
		}, false},
		{"mode", func(t *testing.T, rootfs string) {
			os.Chmod(filepath.Join(rootfs, "etc/plug.conf"), 0o600)
		}, false},
		{"new empty file", func(t *testing.T, rootfs string) {
			writeFiles(t, rootfs, map[string]string{"data/new": ""})
		}, false},
		{"removed file", func(t *testing.T, rootfs string) {
			os.Remove(filepath.Join(rootfs, "b-after-bin"))
		}, false},
		{"renamed, same size", func(t *testing.T, rootfs string) {
			os.Rename(filepath.Join(rootfs, "b-after-bin"), filepath.Join(rootfs, "c-after-bin"))
		}, false},
		{"symlink retargeted, same length", func(t *testing.T, rootfs string) {
			p := filepath.Join(rootfs, "bin/alias")
			os.Remove(p)
			os.Symlink("hard", p)
		}, false},
		{"hard link broken, same content", func(t *testing.T, rootfs string) {
			p := filepath.Join(rootfs, "bin/hard")
			data, _ := os.ReadFile(p)
			os.Remove(p)
			os.WriteFile(p, data, 0o755)
		}, false},
		{"owner", func(t *testing.T, rootfs string) {
			if !root {
				testenv.Unavailable(t, "chown needs root")
			}
			os.Lchown(filepath.Join(rootfs, "etc/plug.conf"), 1000, 1000)
		}, true}, // normalised away, but only WithPreserveTimes would show it
		{"touched", func(t *testing.T, rootfs string) {
			now := time.Now()
			os.Chtimes(filepath.Join(rootfs, "etc/plug.conf"), now, now)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, cache := testDir(t), t.TempDir()
			rootfs := filepath.Join(dir, "rootfs")
			settle(t, dir)
			before, _, _ := packed(t, dir, cache)
			if _, hit, _ := packed(t, dir, cache); !hit {
				t.Fatal("precondition: the settled tree is cached")
			}
			keyBefore, _, _ := treeKey(rootfs, makeOptions())
			tt.change(t, rootfs)
			settle(t, dir)
			if keyAfter, _, _ := treeKey(rootfs, makeOptions()); keyAfter == keyBefore {
				t.Fatal("the change left the tree's key as it was")
			}
			got, hit, img := packed(t, dir, cache)
			if hit {
				t.Error("the changed tree was taken from the cache on its timestamps")
			}
			if !tt.same && img.layer.lazy != nil {
				t.Error("the changed tree was taken from the cache; want it packed")
			}
			if want := truth(t, dir); got != want {
				t.Errorf("digest %s; a fresh pack gives %s", got, want)
			}
			if !tt.same && got == before {
				t.Errorf("the change did not change the layer digest %s", got)
			}
		})
	}
}

// TestCacheRacyTreeNotStored: a tree changed just now may change again
// within the same timestamp tick: its timestamps are never trusted (no
// timestamp-keyed entry); only hashing its content again can reuse a layer.
func TestCacheRacyTreeNotStored(t *testing.T) {
	old := racyWindow
	racyWindow = time.Hour
	t.Cleanup(func() { racyWindow = old })
	dir, cache := testDir(t), t.TempDir()
	want := truth(t, dir)
	for i := range 2 {
		got, hit, img := packed(t, dir, cache)
		if hit {
			t.Fatal("a just-changed tree came from the cache on its timestamps")
		}
		if img.layer.verified != (i == 1) {
			t.Errorf("pack %d: verified by content = %t; want %t", i+1, img.layer.verified, i == 1)
		}
		if got != want {
			t.Errorf("pack %d: digest %s; a fresh pack gives %s", i+1, got, want)
		}
	}
	if es := strictEntries(t, cache); len(es) != 0 {
		t.Errorf("the cache holds %d timestamp-keyed entries for a racy tree; want none", len(es))
	}
}

// TestCacheVerifiesRewrittenTree: the same content written again (new
// inodes and ctimes, as BuildKit's export of an unchanged build) is not
// packed again: its tar is hashed, and the remembered digests are used
// only for the diff_id remembered. One byte changed in the rewritten tree,
// same size, mtime restored, just now (racy), must be packed.
func TestCacheVerifiesRewrittenTree(t *testing.T) {
	shortRacyWindow(t)
	dir, cache := testDir(t), t.TempDir()
	settle(t, dir)
	first, _, _ := packed(t, dir, cache)

	// copyDir writes the plugin again as an export does: a tar stream of
	// the rootfs extracted into a new dir (same content, modes, mtimes and
	// hard links; new inodes and ctimes).
	copyDir := func(t *testing.T) string {
		t.Helper()
		dst := filepath.Join(t.TempDir(), "plugin")
		if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dst, "rootfs")); err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(archive.WriteDir(context.Background(), pw, filepath.Join(dir, "rootfs"))) }()
		if err := archive.Extract(context.Background(), pr, filepath.Join(dst, "rootfs")); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	// The copy is racy (just written): only a content check may reuse.
	dup := copyDir(t)
	got, hit, img := packed(t, dup, cache)
	if want := truth(t, dup); got != want {
		t.Fatalf("digest %s; a fresh pack gives %s", got, want)
	}
	if hit {
		t.Error("a just-written tree came from the cache on its timestamps")
	}
	if got != first {
		t.Fatalf("the rewritten tree packs to %s, the original to %s; want the same layer", got, first)
	}
	if !img.layer.verified {
		t.Error("the rewritten tree with the same layer was packed again; want it verified by content")
	}

	dup = copyDir(t)
	if _, _, img := packed(t, dup, cache); !img.layer.verified {
		t.Fatal("precondition: the rewritten tree is verified by content")
	}
	p := filepath.Join(dup, "rootfs", "etc/plug.conf")
	fi, _ := os.Stat(p)
	data, _ := os.ReadFile(p)
	data[0] ^= 1
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	got, _, img = packed(t, dup, cache)
	if img.layer.lazy != nil {
		t.Error("one byte changed (same size, mtime restored): the cached digests were reused")
	}
	if want := truth(t, dup); got != want {
		t.Errorf("digest %s; a fresh pack gives %s", got, want)
	}
}

// cachedOnce packs a settled plugin dir into a new cache (racy window
// short) and returns the dir, the cache and its one timestamp-keyed entry.
func cachedOnce(t *testing.T) (dir, cache, entry string) {
	t.Helper()
	shortRacyWindow(t)
	dir, cache = testDir(t), t.TempDir()
	settle(t, dir)
	packed(t, dir, cache)
	es := strictEntries(t, cache)
	if len(es) != 1 {
		t.Fatalf("cache holds %v; want one entry", es)
	}
	return dir, cache, es[0]
}

// TestCacheStaleEntry: if the bytes packed on demand do not match the
// remembered digest (a change the key could not see), reading fails, says
// to push again, and the entry is dropped.
func TestCacheStaleEntry(t *testing.T) {
	dir, cache, entry := cachedOnce(t)
	es := []string{entry}
	data, _ := os.ReadFile(es[0])
	var e layerEntry
	json.Unmarshal(data, &e)
	e.Digest = "sha256:" + strings.Repeat("0", 64)
	data, _ = json.Marshal(e)
	os.WriteFile(es[0], data, 0o600)

	_, hit, img := packed(t, dir, cache)
	if !hit {
		t.Fatal("precondition: the entry is used")
	}
	_, err := img.layer.Compressed()
	if err == nil || !strings.Contains(err.Error(), "push again") {
		t.Fatalf("reading a layer whose remembered digest is wrong: %v; want an error saying to push again", err)
	}
	if _, err := os.Stat(es[0]); !errors.Is(err, os.ErrNotExist) {
		t.Error("the stale entry was kept")
	}
	if _, hit, _ := packed(t, dir, cache); hit {
		t.Error("the next pack used the stale entry")
	}
}

// TestCachePushUnchangedUploadsNothing: the second push of an unchanged
// plugin reads no file content and uploads no blob.
func TestCachePushUnchangedUploadsNothing(t *testing.T) {
	shortRacyWindow(t)
	ctx := context.Background()
	var c counter
	host := newRegistry(t, c.wrap)
	dir, cache := testDir(t), t.TempDir()
	settle(t, dir)
	if _, err := Push(ctx, mustImage(t, dir, WithCache(cache)), host+"/p:1", anon); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.uploads = 0
	c.mu.Unlock()
	_, hit, img := packed(t, dir, cache)
	if !hit {
		t.Fatal("the unchanged plugin was packed again")
	}
	if _, err := Push(ctx, img, host+"/p:2", anon); err != nil {
		t.Fatal(err)
	}
	if n := c.count(); n != 0 {
		t.Errorf("second push made %d upload requests; want 0", n)
	}
	if img.layer.f != nil {
		t.Error("pushing the unchanged plugin packed its layer")
	}
	// A registry without the blob gets it, packed on demand.
	host2 := newRegistry(t, nil)
	_, _, img = packed(t, dir, cache)
	if _, err := Push(ctx, img, host2+"/p:1", anon); err != nil {
		t.Fatal(err)
	}
	p, err := Fetch(ctx, host2+"/p:1", anon)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Layers(ctx, func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }); err != nil {
		t.Errorf("the layer packed on demand does not verify: %v", err)
	}
}

func TestCacheTrim(t *testing.T) {
	cache := t.TempDir()
	old := cacheMaxEntries
	cacheMaxEntries = 3
	t.Cleanup(func() { cacheMaxEntries = old })
	base := time.Now().Add(-time.Hour)
	for i := range 5 {
		p := filepath.Join(cache, string(rune('a'+i))+".json")
		os.WriteFile(p, []byte("{}"), 0o600)
		os.Chtimes(p, base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(i)*time.Minute))
	}
	trimCache(cache)
	got, _ := filepath.Glob(filepath.Join(cache, "*.json"))
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	if strings.Join(got, " ") != "c.json d.json e.json" {
		t.Errorf("after trimming to 3: %v; want the 3 most recently used", got)
	}
}

// TestCacheOldFormatIgnored: an entry recorded for the layer format before
// (blockgz blocks in one gzip member) names a blob this dplug would not
// pack any more; it is not used, whatever it says.
func TestCacheOldFormatIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.json")
	e := layerEntry{Format: "dplug-layer-v1/blockgz-1MiB", Digest: "sha256:" + strings.Repeat("a", 64),
		DiffID: "sha256:" + strings.Repeat("b", 64), Size: 10, UncSize: 20}
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := readEntry(path); ok {
		t.Error("an entry of the old layer format was used")
	}
	e.Format = cacheFormat
	data, _ = json.Marshal(e)
	os.WriteFile(path, data, 0o600)
	if _, ok := readEntry(path); !ok {
		t.Error("an entry of the current format was not read (the test's entry is wrong)")
	}
}
