package pack

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dplug/dplug/internal/blockgz"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of the plugin artifact, as dockerd writes them.
const (
	MediaTypeManifest = types.DockerManifestSchema2
	MediaTypeConfig   = types.MediaType("application/vnd.docker.plugin.v1+json")
	MediaTypeLayer    = types.DockerLayer
)

// copyBufSize is the read size used when streaming file contents.
const copyBufSize = 256 << 10

// spooledLayer is a gzip tar layer whose compressed bytes live in an
// unlinked temporary file: built once in a single streaming pass, read any
// number of times, and released when Close is called or the layer is
// garbage collected.
type spooledLayer struct {
	f       *os.File
	size    int64
	digest  v1.Hash
	diffID  v1.Hash
	uncSize int64

	// lazy, if set, packs the layer when its bytes are first read (f is
	// nil until then; packed keeps the packed layer, which owns its spool):
	// the digests came from the layer cache.
	lazy     func() (*spooledLayer, error)
	verified bool // the cache's digests were confirmed by hashing the tree
	lazyOnce sync.Once
	lazyErr  error
	packed   *spooledLayer

	closeOnce sync.Once
}

// file returns the spool, packing it first for a cached layer.
func (l *spooledLayer) file() (*os.File, error) {
	l.lazyOnce.Do(func() {
		if l.lazy != nil && l.f == nil {
			l.packed, l.lazyErr = l.lazy()
			if l.lazyErr == nil {
				l.f = l.packed.f
			}
		}
	})
	if l.lazyErr != nil {
		return nil, l.lazyErr
	}
	return l.f, nil
}

var _ v1.Layer = (*spooledLayer)(nil)

// Digest is the sha256 of the compressed layer.
func (l *spooledLayer) Digest() (v1.Hash, error) { return l.digest, nil }

// DiffID is the sha256 of the uncompressed tar.
func (l *spooledLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Size is the compressed size.
func (l *spooledLayer) Size() (int64, error) { return l.size, nil }

// MediaType is always the Docker gzip rootfs layer type.
func (l *spooledLayer) MediaType() (types.MediaType, error) { return MediaTypeLayer, nil }

// Compressed returns a fresh reader over the spooled gzip bytes.
func (l *spooledLayer) Compressed() (io.ReadCloser, error) {
	f, err := l.file()
	if err != nil {
		return nil, err
	}
	return io.NopCloser(io.NewSectionReader(f, 0, l.size)), nil
}

// Uncompressed returns the tar stream, decompressing the spool.
func (l *spooledLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := l.file()
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, l.size))
	if err != nil {
		return nil, fmt.Errorf("reading spooled layer: %w", err)
	}
	return zr, nil
}

// Close releases the spool file.
func (l *spooledLayer) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.lazyOnce.Do(func() {}) // a cached layer never read stays unpacked
		switch {
		case l.packed != nil:
			err = l.packed.Close()
		case l.f != nil:
			err = l.f.Close()
		}
	})
	return err
}

// countingHash counts and hashes what is written through it.
type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// progressWriter reports bytes written to it as packing progress.
type progressWriter struct {
	fn       func(Progress)
	n, total int64
	last     time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond {
		p.last = now
		p.fn(Progress{Phase: "packing", Complete: p.n, Total: p.total})
	}
	return len(b), nil
}

// buildLayer tars rootfs (sorted, normalised unless o.preserveTimes),
// gzips it at o.level and spools the result to an unlinked temp file,
// computing both digests on the way.
func buildLayer(rootfs string, o *options) (_ *spooledLayer, err error) {
	if o.level < gzip.NoCompression && o.level != gzip.DefaultCompression || o.level > gzip.BestCompression {
		return nil, fmt.Errorf("compression level %d out of range: use 0 (none) to 9 (smallest)", o.level)
	}
	total, err := treeSize(rootfs)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "dplug-layer-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("creating layer spool: %w", err)
	}
	// Unlink at once: the open descriptor keeps the data, nothing is left
	// behind whatever happens to this process.
	if rerr := os.Remove(f.Name()); rerr != nil {
		f.Close()
		return nil, fmt.Errorf("creating layer spool: %w", rerr)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()

	// Compression runs on every core (package blockgz: fixed 1 MiB
	// blocks, so the bytes do not depend on the core count); the
	// uncompressed tar is hashed for the diff_id and the compressed bytes
	// for the digest in the same pass.
	comp := &countingHash{h: sha256.New()}
	unc := &countingHash{h: sha256.New()}
	bw := bufio.NewWriterSize(io.MultiWriter(f, comp), 1<<20)
	zw, err := blockgz.NewWriter(bw, o.level, blockgz.Options{Uncompressed: unc})
	if err != nil {
		return nil, fmt.Errorf("creating gzip writer: %w", err)
	}
	prog := &progressWriter{fn: o.progress, total: total}
	tw := tar.NewWriter(zw)
	if err := writeTree(tw, rootfs, o.preserveTimes, prog); err != nil {
		zw.Close()
		return nil, err
	}
	if err := tw.Close(); err != nil {
		zw.Close()
		return nil, fmt.Errorf("writing layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing layer spool: %w", err)
	}
	o.progress(Progress{Phase: "packing", Complete: total, Total: total})
	l := &spooledLayer{
		f:       f,
		size:    comp.n,
		digest:  v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", comp.h.Sum(nil))},
		diffID:  v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", unc.h.Sum(nil))},
		uncSize: unc.n,
	}
	runtime.AddCleanup(l, func(f *os.File) { f.Close() }, f)
	return l, nil
}

// treeSize sums the sizes of the regular files under root, for progress.
func treeSize(root string) (int64, error) {
	var n int64
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading rootfs: %w", err)
	}
	return n, nil
}

type inode struct{ dev, ino uint64 }

// writeTree writes every entry under root to tw in lexical walk order, the
// root itself as "./" (like dockerd's archive), hard links as links to the
// first name seen.
func writeTree(tw *tar.Writer, root string, preserve bool, prog *progressWriter) error {
	seen := map[inode]string{}
	buf := make([]byte, copyBufSize)
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading rootfs: %w", err)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading rootfs: %w", err)
		}
		if fi.Mode()&fs.ModeSocket != 0 {
			return nil // tar cannot hold sockets; dockerd skips them too
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return fmt.Errorf("reading rootfs: %w", err)
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("archiving %s: %w", rel, err)
		}
		name := filepath.ToSlash(rel)
		if fi.IsDir() {
			if name == "." {
				name = "./"
			} else {
				name += "/"
			}
		}
		hdr.Name = name
		if key, ok := hardlinkKey(fi); ok {
			if first, ok := seen[key]; ok {
				hdr.Typeflag = tar.TypeLink
				hdr.Linkname = first
				hdr.Size = 0
			} else {
				seen[key] = name
			}
		}
		normalise(hdr, preserve)
		if caps, ok := fileCaps(path); ok {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": caps}
			hdr.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("archiving %s: %w", rel, err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("reading rootfs: %w", err)
		}
		defer f.Close()
		n, err := io.CopyBuffer(io.MultiWriter(tw, prog), io.LimitReader(f, hdr.Size), buf)
		if err != nil {
			return fmt.Errorf("archiving %s: %w", rel, err)
		}
		if n != hdr.Size {
			return fmt.Errorf("archiving %s: file changed size while reading", rel)
		}
		return nil
	})
}

// epoch is the normalised modification time of every entry.
var epoch = time.Unix(0, 0).UTC()

func normalise(hdr *tar.Header, preserve bool) {
	hdr.Uname, hdr.Gname = "", ""
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if preserve {
		hdr.ModTime = hdr.ModTime.Truncate(time.Second)
		return
	}
	hdr.Uid, hdr.Gid = 0, 0
	hdr.ModTime = epoch
}

// errNotPluginDir is returned for a directory without config.json or rootfs/.
var errNotPluginDir = errors.New("not a plugin directory: want config.json and rootfs/")

func checkPluginDir(dir string) error {
	if fi, err := os.Stat(filepath.Join(dir, "config.json")); err != nil || fi.IsDir() {
		return fmt.Errorf("%s: %w", dir, errNotPluginDir)
	}
	if fi, err := os.Stat(filepath.Join(dir, "rootfs")); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: %w", dir, errNotPluginDir)
	}
	return nil
}
