//go:build unix

package archive

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// oNoFollow makes creating a regular file fail rather than follow a
// symlink planted at its path.
const oNoFollow = unix.O_NOFOLLOW

func mknod(p string, typ byte, perm fs.FileMode, major, minor int64) error {
	m := uint32(perm.Perm())
	switch typ {
	case tar.TypeChar:
		m |= unix.S_IFCHR
	case tar.TypeBlock:
		m |= unix.S_IFBLK
	default:
		m |= unix.S_IFIFO
	}
	return unix.Mknod(p, m, int(unix.Mkdev(uint32(major), uint32(minor))))
}

func lsetxattr(p, attr, value string) error {
	return unix.Lsetxattr(p, attr, []byte(value), 0)
}

// setTimes sets atime and mtime without following a final symlink.
func setTimes(p string, atime, mtime time.Time) error {
	if mtime.IsZero() {
		return nil
	}
	if atime.IsZero() {
		atime = mtime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times on %s: %w", p, err)
	}
	return nil
}

// inodeOf identifies fi's inode, to write hard links once.
func inodeOf(fi fs.FileInfo) (dev, ino, nlink uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink), true //nolint:unconvert // widths differ by platform
}
