package build

import (
	"io/fs"
	"syscall"
)

// inodeStamp returns what a fingerprint keys an entry on besides its name,
// mode and size: mtime and ctime (ns), and owner, inode, link count,
// device and device number.
func inodeStamp(fi fs.FileInfo) (mtime, ctime int64, ids []uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, nil, false
	}
	return st.Mtim.Nano(), st.Ctim.Nano(),
		[]uint64{uint64(st.Uid), uint64(st.Gid), st.Ino, uint64(st.Nlink), st.Dev, st.Rdev}, true //nolint:unconvert // types differ per arch
}
