//go:build linux

package pack

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/atomicfile"
	"github.com/dplug/dplug/internal/testenv"
)

// TestCacheTrimSweepsTemps: trimCache removes temp files a killed process
// left more than an hour ago, keeps younger ones (a write under way), and
// counts neither, nor other files, as entries.
func TestCacheTrimSweepsTemps(t *testing.T) {
	cache := t.TempDir()
	old := cacheMaxEntries
	cacheMaxEntries = 2
	t.Cleanup(func() { cacheMaxEntries = old })
	now := time.Now()
	files := []struct {
		name string
		age  time.Duration
	}{
		{"a.json", 3 * time.Minute},
		{"b.json", 2 * time.Minute},
		{atomicfile.TempPrefix + "a.json-1", 2 * time.Hour},
		{atomicfile.TempPrefix + "b.json-2", time.Minute},
		{atomicfile.TempPrefix + "c.json-3", 30 * time.Minute},
		{"notes.txt", 4 * time.Hour},
	}
	for _, f := range files {
		p := filepath.Join(cache, f.name)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-f.age), now.Add(-f.age)); err != nil {
			t.Fatal(err)
		}
	}
	trimCache(cache)
	des, _ := os.ReadDir(cache)
	var got []string
	for _, d := range des {
		got = append(got, d.Name())
	}
	want := []string{atomicfile.TempPrefix + "b.json-2", atomicfile.TempPrefix + "c.json-3", "a.json", "b.json", "notes.txt"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after trimming: %q; want %q (the 2-hour-old temp gone, nothing else)", got, want)
	}
}

// TestCacheWriteEntry: an entry is written whole, private, and read back;
// no temp file is left, and the cache is trimmed to cacheMaxEntries (the
// least recently used go).
func TestCacheWriteEntry(t *testing.T) {
	old := cacheMaxEntries
	cacheMaxEntries = 2
	t.Cleanup(func() { cacheMaxEntries = old })
	cache := filepath.Join(t.TempDir(), "layers")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	for i, n := range []string{"old.json", "older.json"} {
		p := filepath.Join(cache, n)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-time.Duration(i+1) * time.Hour)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	e := layerEntry{Format: cacheFormat, Digest: "sha256:" + strings.Repeat("a", 64), DiffID: "sha256:" + strings.Repeat("b", 64), Size: 10, UncSize: 20}
	p := filepath.Join(cache, "k.json")
	if err := writeEntry(cache, p, e); err != nil {
		t.Fatal(err)
	}
	if got, ok := readEntry(p); !ok || got != e {
		t.Errorf("read back %+v, %t; want %+v", got, ok, e)
	}
	for _, n := range []string{cache, p} {
		fi, err := os.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 && fi.IsDir() || fi.Mode().Perm() != 0o600 && !fi.IsDir() {
			t.Errorf("%s: mode %v; want 0700 for the dir, 0600 for an entry", n, fi.Mode().Perm())
		}
	}
	var got []string
	des, _ := os.ReadDir(cache)
	for _, d := range des {
		got = append(got, d.Name())
	}
	if want := []string{"k.json", "old.json"}; !slices.Equal(got, want) {
		t.Errorf("the cache holds %q; want %q (trimmed to 2, no temp left)", got, want)
	}
}

// TestCacheReadEntryRefuses: an entry of another format, a size not above
// zero, or bytes that are not JSON are misses.
func TestCacheReadEntryRefuses(t *testing.T) {
	good := layerEntry{Format: cacheFormat, Digest: "sha256:" + strings.Repeat("a", 64), DiffID: "sha256:" + strings.Repeat("b", 64), Size: 1, UncSize: 20}
	tests := []struct {
		name string
		edit func(e *layerEntry) []byte
		ok   bool
	}{
		{"good, one byte", func(e *layerEntry) []byte { b, _ := json.Marshal(e); return b }, true},
		{"size 0", func(e *layerEntry) []byte { e.Size = 0; b, _ := json.Marshal(e); return b }, false},
		{"size -1", func(e *layerEntry) []byte { e.Size = -1; b, _ := json.Marshal(e); return b }, false},
		{"other format", func(e *layerEntry) []byte { e.Format = "dplug-layer-v0"; b, _ := json.Marshal(e); return b }, false},
		{"empty (lost in a crash)", func(*layerEntry) []byte { return nil }, false},
		{"cut short", func(e *layerEntry) []byte { b, _ := json.Marshal(e); return b[:len(b)/2] }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			p := filepath.Join(t.TempDir(), "k.json")
			if err := os.WriteFile(p, tt.edit(&e), 0o600); err != nil {
				t.Fatal(err)
			}
			if got, ok := readEntry(p); ok != tt.ok || ok && got != e {
				t.Errorf("readEntry: %+v, %t; want ok %t", got, ok, tt.ok)
			}
		})
	}
}

// TestCacheBadDigestEntry: an entry whose digest or diff_id does not parse
// is dropped and the tree packed.
func TestCacheBadDigestEntry(t *testing.T) {
	dir, cache, entry := cachedOnce(t)
	es := []string{entry}
	for _, field := range []string{"digest", "diffID"} {
		packed(t, dir, cache) // the entry is there again (verified by content)
		if _, ok := readEntry(es[0]); !ok {
			t.Fatal("precondition: the entry is there")
		}
		var e map[string]any
		data, _ := os.ReadFile(es[0])
		json.Unmarshal(data, &e)
		e[field] = "sha256:not-hex"
		data, _ = json.Marshal(e)
		if err := os.WriteFile(es[0], data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, _, img := packed(t, dir, cache)
		if img.layer.lazy != nil {
			t.Errorf("%s unparsable: the entry was used", field)
		}
		if want := truth(t, dir); got != want {
			t.Errorf("%s unparsable: digest %s; a fresh pack gives %s", field, got, want)
		}
		if _, err := os.Stat(es[0]); !os.IsNotExist(err) {
			t.Errorf("%s unparsable: the entry was kept (%v)", field, err)
		}
	}
}

// TestCacheUnwritable: a cache dir that cannot be created only means
// nothing is remembered (said in the debug log); the plugin packs. A cache
// that stores logs no such line.
func TestCacheUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := testDir(t)
	for _, tt := range []struct {
		name, cache string
		logged      bool
	}{
		{"unwritable", filepath.Join(file, "layers"), true},
		{"writable", t.TempDir(), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			got, hit, _ := packed(t, dir, tt.cache, log)
			if hit {
				t.Error("a hit from an empty cache")
			}
			if want := truth(t, dir); got != want {
				t.Errorf("digest %s; a fresh pack gives %s", got, want)
			}
			if logged := strings.Contains(logs.String(), "layer cache: not stored"); logged != tt.logged {
				t.Errorf("logged %q; want \"not stored\" %t", logs.String(), tt.logged)
			}
		})
	}
}

func TestDefaultCacheDir(t *testing.T) {
	d := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", d)
	if got, want := DefaultCacheDir(), filepath.Join(d, "dplug", "layers"); got != want {
		t.Errorf("with XDG_CACHE_HOME: %q; want %q", got, want)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	if got := DefaultCacheDir(); got != "" {
		t.Errorf("with no cache dir: %q; want \"\"", got)
	}
}

// TestCacheLooseKey: the loose key (what a rewrite of the same content
// keeps) covers mtimes and owners only when they go into the layer
// (WithPreserveTimes), and always the modes and link targets; the strict
// key covers all of them.
func TestCacheLooseKey(t *testing.T) {
	tests := []struct {
		name       string
		root       bool
		change     func(t *testing.T, rootfs string)
		loose      bool // the loose key changes without WithPreserveTimes
		preserving bool // ... and with it
	}{
		{"mtime", false, func(t *testing.T, rootfs string) {
			old := time.Unix(1_000_000, 0)
			if err := os.Chtimes(filepath.Join(rootfs, "etc/plug.conf"), old, old); err != nil {
				t.Fatal(err)
			}
		}, false, true},
		{"owner", true, func(t *testing.T, rootfs string) {
			if err := os.Lchown(filepath.Join(rootfs, "etc/plug.conf"), 1000, 1000); err != nil {
				t.Fatal(err)
			}
		}, false, true},
		{"group", true, func(t *testing.T, rootfs string) {
			if err := os.Lchown(filepath.Join(rootfs, "etc/plug.conf"), -1, 1000); err != nil {
				t.Fatal(err)
			}
		}, false, true},
		{"mode", false, func(t *testing.T, rootfs string) {
			if err := os.Chmod(filepath.Join(rootfs, "etc/plug.conf"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, true, true},
		{"symlink retargeted, same length", false, func(t *testing.T, rootfs string) {
			p := filepath.Join(rootfs, "bin/alias")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("hard", p); err != nil {
				t.Fatal(err)
			}
		}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				testenv.RequireRoot(t)
			}
			rootfs := filepath.Join(testDir(t), "rootfs")
			plain, preserving := makeOptions(), makeOptions()
			preserving.preserveTimes = true
			before := []keys{}
			for _, o := range []*options{plain, preserving} {
				k, err := treeKeys(rootfs, o)
				if err != nil {
					t.Fatal(err)
				}
				before = append(before, k)
			}
			tt.change(t, rootfs)
			for i, o := range []*options{plain, preserving} {
				k, err := treeKeys(rootfs, o)
				if err != nil {
					t.Fatal(err)
				}
				if want := []bool{tt.loose, tt.preserving}[i]; (k.loose != before[i].loose) != want {
					t.Errorf("preserve times %t: loose key changed %t; want %t", o.preserveTimes, k.loose != before[i].loose, want)
				}
				if k.strict == before[i].strict {
					t.Errorf("preserve times %t: the strict key did not change", o.preserveTimes)
				}
			}
		})
	}
}
