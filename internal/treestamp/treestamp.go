package treestamp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNoStamp is returned by Walk and Tree on a system that does not say
// when an inode changed (no ctime): callers then keep no fingerprint.
var ErrNoStamp = errors.New("no inode change times on this system")

// Stamp is what an entry is keyed on besides its path, mode and size.
type Stamp struct {
	Mtime, Ctime int64 // ns since the epoch
	UID, GID     uint64
	Ino, Nlink   uint64
	Dev, Rdev    uint64
}

// Newest is the later of the stamp's mtime and ctime: when the entry last
// changed as far as its stamp can tell.
func (s Stamp) Newest() int64 { return max(s.Mtime, s.Ctime) }

// Entry is one entry of a walked tree.
type Entry struct {
	Rel    string // path relative to the walked root; "." for the root
	Mode   fs.FileMode
	Size   int64
	Target string // a symlink's target; "" for anything else
	Stamp
}

// Walk calls fn with every entry under root, root included, in lexical
// order (filepath.WalkDir's). It fails with ErrNoStamp where there are no
// stamps, and with fn's error, unwrapped, if fn fails.
func Walk(root string, fn func(Entry) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := Of(fi)
		if !ok {
			return ErrNoStamp
		}
		rel, _ := filepath.Rel(root, path)
		e := Entry{Rel: rel, Mode: fi.Mode(), Size: fi.Size(), Stamp: st}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if e.Target, err = os.Readlink(path); err != nil {
				return err
			}
		}
		return fn(e)
	})
}

// Write feeds all of e to h: path, mode, size, mtime, ctime, owner, inode,
// link count, devices and link target. Fields have fixed widths and
// strings end in NUL, so entries cannot run into each other.
func (e *Entry) Write(h hash.Hash) {
	String(h, e.Rel)
	Uint64(h, uint64(e.Mode), uint64(e.Size), uint64(e.Mtime), uint64(e.Ctime),
		e.UID, e.GID, e.Ino, e.Nlink, e.Dev, e.Rdev)
	if e.Mode&fs.ModeSymlink != 0 {
		String(h, e.Target)
	}
}

// Tree returns the hex sha256 of every entry under root fed to Write in
// walk order, and the newest of their stamps (see Stamp.Newest).
func Tree(root string) (fp string, newest int64, err error) {
	h := sha256.New()
	err = Walk(root, func(e Entry) error {
		e.Write(h)
		newest = max(newest, e.Newest())
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), newest, nil
}

// String feeds s and a NUL to h.
func String(h hash.Hash, s string) {
	h.Write([]byte(s))
	h.Write([]byte{0})
}

// Uint64 feeds each of vs to h as 8 little-endian bytes.
func Uint64(h hash.Hash, vs ...uint64) {
	var b [8]byte
	for _, v := range vs {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
}
