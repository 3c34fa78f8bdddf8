package treestamp

import (
	"io/fs"
	"syscall"
)

// Of returns fi's stamp; ok is false if fi does not come from lstat or
// stat (no syscall.Stat_t behind it).
func Of(fi fs.FileInfo) (Stamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Stamp{}, false
	}
	//nolint:unconvert // the field types differ per arch
	return Stamp{
		Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(),
		UID: uint64(st.Uid), GID: uint64(st.Gid),
		Ino: uint64(st.Ino), Nlink: uint64(st.Nlink),
		Dev: uint64(st.Dev), Rdev: uint64(st.Rdev),
	}, true
}
