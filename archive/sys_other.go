//go:build !unix

package archive

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// oNoFollow: the O_NOFOLLOW guard only exists on Unix; plugin rootfs
// extraction is a Linux feature, this keeps the package building elsewhere.
const oNoFollow = 0

func mknod(string, byte, fs.FileMode, int64, int64) error {
	return errors.ErrUnsupported
}

func lsetxattr(string, string, string) error { return errors.ErrUnsupported }

func setTimes(p string, atime, mtime time.Time) error {
	if mtime.IsZero() {
		return nil
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&fs.ModeSymlink != 0 {
		return nil
	}
	if atime.IsZero() {
		atime = mtime
	}
	return os.Chtimes(p, atime, mtime)
}

func inodeOf(fs.FileInfo) (dev, ino, nlink uint64, ok bool) { return 0, 0, 0, false }
