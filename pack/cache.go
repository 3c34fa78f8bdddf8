package pack

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The layer cache (WithCache) remembers, for a rootfs tree that has not
// changed, the digests of the layer packed from it, so that an unchanged
// plugin is never packed again: pushing it costs a tree walk (one lstat
// per entry) and the registry's existence checks. The layer's bytes are
// not kept: if a registry lacks the blob, it is packed again then, and
// checked against the remembered digest.
//
// # How a change is noticed
//
// The key is a hash of every entry's path, type and mode bits, size,
// modification time, inode change time (ctime), owner, inode and link
// count (hard links shape the tar), device number and link target, plus
// the layer options (compression level, kept times) and the layer format.
// Contents are not read. What makes that safe is ctime: the kernel sets it
// to the current time on every change to a file — a write, truncate,
// chmod, chown, xattr change (file capabilities), rename, link — and user
// space cannot set it back (touch and utimes restore mtime, never ctime).
// So a write that keeps the size and restores the mtime still changes the
// key.
//
// One case escapes a timestamp: two changes within one tick of the
// filesystem clock (coarse, milliseconds; seconds on some filesystems)
// leave the same ctime, so a write landing in the same tick as the walk
// that took the fingerprint would go unseen. Like git's "racy" index
// entries, a tree in which some entry changed less than racyWindow before
// the walk started is therefore never entered into the cache: on doubt
// it is packed (hashed) again, every time, until it has settled.
//
// The config is not part of the key: the config blob is rebuilt from the
// config bytes on every pack (it costs nothing), only the layer is cached.
//
// Entries are small JSON files named by the key; at most cacheMaxEntries
// are kept, the least recently used are removed first.

// cacheFormat changes whenever the layer bytes for the same tree and
// options would change (tar writer, compression format, block size).
const cacheFormat = "dplug-layer-v1/blockgz-" + "1MiB"

// racyWindow: a tree with an entry changed this recently is not cached.
// It is larger than the timestamp granularity of any filesystem the
// rootfs may live on (2 s on FAT) and the lag of the kernel's coarse
// clock behind time.Now.
var racyWindow = 2 * time.Second

// cacheMaxEntries bounds the cache directory (each entry is ~300 bytes).
var cacheMaxEntries = 512

// errNoStamp: this system does not say when an inode changed (no ctime):
// no caching.
var errNoStamp = errors.New("no inode change times on this system")

// layerEntry is what the cache keeps for a tree.
type layerEntry struct {
	Format  string `json:"format"`
	Digest  string `json:"digest"`
	DiffID  string `json:"diffID"`
	Size    int64  `json:"size"`
	UncSize int64  `json:"uncompressedSize"`
}

// WithCache keeps the digests of packed layers under dir (created 0700 if
// missing), so that packing an unchanged rootfs again reads no file
// content (see the package's cache notes in cache.go: the key covers
// ctime, so any change is seen). "" (the default) packs every time.
func WithCache(dir string) Option {
	return func(o *options) { o.cacheDir = dir }
}

// DefaultCacheDir is where the CLI keeps the layer cache for plugin
// directories: os.UserCacheDir()/dplug/layers ("" if there is none).
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "dplug", "layers")
}

// packLayer returns the layer of rootfs: from the cache when the tree is
// unchanged since it was packed, else packed now (and remembered).
func packLayer(rootfs string, o *options) (*spooledLayer, error) {
	if o.cacheDir == "" {
		return buildLayer(rootfs, o)
	}
	key, racy, err := treeKey(rootfs, o)
	if errors.Is(err, errNoStamp) {
		return buildLayer(rootfs, o)
	}
	if err != nil {
		return nil, err
	}
	path := filepath.Join(o.cacheDir, key+".json")
	if !racy {
		if e, ok := readEntry(path); ok {
			o.log.Debug("layer cache hit: rootfs unchanged, not packing", "key", key, "digest", e.Digest)
			now := time.Now()
			_ = os.Chtimes(path, now, now) // recently used
			return cachedLayer(rootfs, o, e, path)
		}
	} else {
		o.log.Debug("layer cache: rootfs changed in the last moments, packing without caching", "window", racyWindow)
	}
	l, err := buildLayer(rootfs, o)
	if err != nil || racy {
		return l, err
	}
	e := layerEntry{Format: cacheFormat, Digest: l.digest.String(), DiffID: l.diffID.String(), Size: l.size, UncSize: l.uncSize}
	if werr := writeEntry(o.cacheDir, path, e); werr != nil {
		o.log.Debug("layer cache: not stored", "err", werr)
	}
	return l, nil
}

// cachedLayer is a layer whose digests come from the cache; its bytes
// are packed only if someone reads them.
func cachedLayer(rootfs string, o *options, e layerEntry, path string) (*spooledLayer, error) {
	digest, err1 := v1.NewHash(e.Digest)
	diffID, err2 := v1.NewHash(e.DiffID)
	if err := errors.Join(err1, err2); err != nil {
		os.Remove(path)
		return buildLayer(rootfs, o)
	}
	l := &spooledLayer{size: e.Size, digest: digest, diffID: diffID, uncSize: e.UncSize}
	l.lazy = func() (*spooledLayer, error) {
		o2 := *o
		o2.progress = func(Progress) {} // an upload is under way: no packing phase
		built, err := buildLayer(rootfs, &o2)
		if err != nil {
			return nil, err
		}
		if built.digest != digest || built.diffID != diffID || built.size != e.Size {
			built.Close()
			os.Remove(path)
			return nil, fmt.Errorf("the rootfs %s changed while it was being pushed (packed again it is %s, not %s): push again", rootfs, built.digest, digest)
		}
		return built, nil
	}
	return l, nil
}

func readEntry(path string) (layerEntry, bool) {
	var e layerEntry
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &e) != nil || e.Format != cacheFormat || e.Size <= 0 {
		return layerEntry{}, false
	}
	return e, true
}

// writeEntry stores e atomically (temp file + rename) and trims the cache.
func writeEntry(dir, path string, e layerEntry) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	trimCache(dir)
	return nil
}

// trimCache removes the least recently used entries past cacheMaxEntries,
// and temp files left by a killed process.
func trimCache(dir string) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type ent struct {
		name string
		t    time.Time
	}
	var es []ent
	for _, d := range des {
		fi, err := d.Info()
		if err != nil {
			continue
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if time.Since(fi.ModTime()) > time.Hour {
				os.Remove(filepath.Join(dir, d.Name()))
			}
			continue
		}
		if strings.HasSuffix(d.Name(), ".json") {
			es = append(es, ent{d.Name(), fi.ModTime()})
		}
	}
	if len(es) <= cacheMaxEntries {
		return
	}
	sort.Slice(es, func(i, j int) bool { return es[i].t.Before(es[j].t) })
	for _, e := range es[:len(es)-cacheMaxEntries] {
		os.Remove(filepath.Join(dir, e.name))
	}
}

// treeKey fingerprints rootfs and the layer options (see above). racy
// reports an entry changed within racyWindow of now.
func treeKey(rootfs string, o *options) (key string, racy bool, err error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00level=%d\x00preserve=%t\x00", cacheFormat, o.level, o.preserveTimes)
	limit := time.Now().Add(-racyWindow).UnixNano()
	var num [8]byte
	put := func(h hash.Hash, v uint64) {
		binary.LittleEndian.PutUint64(num[:], v)
		h.Write(num[:])
	}
	err = filepath.WalkDir(rootfs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(rootfs, path)
		h.Write([]byte(rel))
		h.Write([]byte{0})
		put(h, uint64(fi.Mode()))
		put(h, uint64(fi.Size()))
		mtime, ctime, ids, ok := inodeStamp(fi)
		if !ok {
			return errNoStamp
		}
		put(h, uint64(mtime))
		put(h, uint64(ctime))
		for _, v := range ids {
			put(h, v)
		}
		if ctime >= limit || mtime >= limit {
			racy = true
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			h.Write([]byte(target))
			h.Write([]byte{0})
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("reading rootfs: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), racy, nil
}
