package pack

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dplug/dplug/internal/atomicfile"
	"github.com/dplug/dplug/internal/treestamp"
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
// the layer options (compression level, kept times) and the layer format
// (the entries' stamps are package internal/treestamp's, which build's
// rootfs reuse shares). Contents are not read. What makes that safe is ctime: the kernel sets it
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
// # Same content, new inodes: verified by content
//
// A tree written again with the same content (BuildKit exporting an
// unchanged build, a copy, a restore) has new ctimes and inodes, so its key
// misses. For those the cache keeps a second, loose entry keyed by what a
// rewrite keeps (paths, types and modes, sizes, link targets and counts,
// and the mtimes and owners when they go into the layer) that holds the
// layer's diff_id (the sha256 of its uncompressed tar) and digests. When
// the key misses but the loose entry exists, the tree is read and hashed
// as the uncompressed tar it packs to (no compression: a read and a
// sha256, several times cheaper than packing); only if that diff_id is the
// one remembered are the remembered digests used. The layer's compressed
// bytes are a function of the tar bytes, the level and the format alone
// (cacheFormat, blockgz), so the same diff_id means the same layer. Being
// read, such a tree needs no settling: a tree changed just now is verified
// this way too. Any content change, whatever the timestamps say, changes
// the diff_id and the tree is packed.
//
// The config is not part of the key: the config blob is rebuilt from the
// config bytes on every pack (it costs nothing), only the layer is cached.
//
// Entries are small JSON files named by the key; at most cacheMaxEntries
// are kept, the least recently used are removed first.

// cacheFormat changes whenever the layer bytes for the same tree and
// options would change (tar writer, compression format, block size).
const cacheFormat = "dplug-layer-v2/blockgz-members-" + "1MiB"

// racyWindow: a tree with an entry changed this recently is not cached.
// It is larger than the timestamp granularity of any filesystem the
// rootfs may live on (2 s on FAT) and the lag of the kernel's coarse
// clock behind time.Now.
var racyWindow = 2 * time.Second

// cacheMaxEntries bounds the cache directory (each entry is ~300 bytes).
var cacheMaxEntries = 512

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
	keys, err := treeKeys(rootfs, o)
	if errors.Is(err, treestamp.ErrNoStamp) {
		return buildLayer(rootfs, o)
	}
	if err != nil {
		return nil, err
	}
	path := filepath.Join(o.cacheDir, keys.strict+".json")
	loosePath := filepath.Join(o.cacheDir, "loose-"+keys.loose+".json")
	if !keys.racy {
		if e, ok := readEntry(path); ok {
			o.log.Debug("layer cache hit: rootfs unchanged, not packing", "key", keys.strict, "digest", e.Digest)
			touch(path)
			return cachedLayer(rootfs, o, e, path)
		}
	} else {
		o.log.Debug("layer cache: rootfs changed in the last moments, not trusting its timestamps", "window", racyWindow)
	}
	if e, ok := readEntry(loosePath); ok {
		diffID, n, err := hashTree(rootfs, o)
		if err != nil {
			return nil, err
		}
		if diffID.String() == e.DiffID && n == e.UncSize {
			o.log.Debug("layer cache hit: rootfs rewritten with the same content (verified by its diff_id), not packing",
				"diffID", e.DiffID, "digest", e.Digest)
			touch(loosePath)
			if !keys.racy {
				_ = writeEntry(o.cacheDir, path, e)
			}
			l, err := cachedLayer(rootfs, o, e, loosePath)
			if l != nil {
				l.verified = true
			}
			return l, err
		}
		o.log.Debug("layer cache: same shape, different content; packing", "diffID", diffID)
	}
	l, err := buildLayer(rootfs, o)
	if err != nil {
		return l, err
	}
	e := layerEntry{Format: cacheFormat, Digest: l.digest.String(), DiffID: l.diffID.String(), Size: l.size, UncSize: l.uncSize}
	// The loose entry is only ever used after the content has been
	// hashed again, so a racy tree may have one.
	werr := writeEntry(o.cacheDir, loosePath, e)
	if !keys.racy {
		werr = errors.Join(werr, writeEntry(o.cacheDir, path, e))
	}
	if werr != nil {
		o.log.Debug("layer cache: not stored", "err", werr)
	}
	return l, nil
}

// touch marks a cache entry as recently used.
func touch(path string) {
	now := time.Now()
	_ = os.Chtimes(path, now, now)
}

// hashTree returns the diff_id and size of the uncompressed layer rootfs
// packs to: the same tar as buildLayer's, hashed instead of compressed.
func hashTree(rootfs string, o *options) (v1.Hash, int64, error) {
	unc := &countingHash{h: sha256.New()}
	bw := bufio.NewWriterSize(unc, 1<<20)
	tw := tar.NewWriter(bw)
	if err := writeTree(tw, rootfs, o.preserveTimes, &progressWriter{fn: func(Progress) {}}); err != nil {
		return v1.Hash{}, 0, err
	}
	if err := tw.Close(); err != nil {
		return v1.Hash{}, 0, fmt.Errorf("writing layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return v1.Hash{}, 0, err
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(unc.h.Sum(nil))}, unc.n, nil
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

// writeEntry stores e atomically and trims the cache. It does not fsync:
// a crash may lose an entry or leave it empty (readEntry then misses and
// the tree is packed again), never one with part of a digest.
func writeEntry(dir, path string, e layerEntry) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600, false); err != nil {
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
		if strings.HasPrefix(d.Name(), atomicfile.TempPrefix) {
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
	k, err := treeKeys(rootfs, o)
	return k.strict, k.racy, err
}

// keys are a tree's two cache keys.
type keys struct {
	strict string // everything, ctime and inode included
	loose  string // what survives rewriting the same content
	racy   bool   // an entry changed within racyWindow of now
}

// treeKeys computes both keys in one walk.
func treeKeys(rootfs string, o *options) (keys, error) {
	h, lh := sha256.New(), sha256.New()
	fmt.Fprintf(h, "%s\x00level=%d\x00preserve=%t\x00", cacheFormat, o.level, o.preserveTimes)
	fmt.Fprintf(lh, "loose\x00%s\x00level=%d\x00preserve=%t\x00", cacheFormat, o.level, o.preserveTimes)
	limit := time.Now().Add(-racyWindow).UnixNano()
	racy := false
	err := treestamp.Walk(rootfs, func(e treestamp.Entry) error {
		e.Write(h)
		treestamp.String(lh, e.Rel)
		treestamp.Uint64(lh, uint64(e.Mode), uint64(e.Size), e.Nlink)
		if o.preserveTimes {
			treestamp.Uint64(lh, uint64(e.Mtime), e.UID, e.GID)
		}
		if e.Mode&fs.ModeSymlink != 0 {
			treestamp.String(lh, e.Target)
		}
		if e.Newest() >= limit {
			racy = true
		}
		return nil
	})
	if err != nil {
		return keys{}, fmt.Errorf("reading rootfs: %w", err)
	}
	return keys{strict: hex.EncodeToString(h.Sum(nil)), loose: hex.EncodeToString(lh.Sum(nil)), racy: racy}, nil
}
