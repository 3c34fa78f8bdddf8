//go:build unix

package pack

import (
	"io/fs"
	"syscall"
)

// hardlinkKey identifies a regular file with several links, so the tar
// stores it once and links the other names to it.
func hardlinkKey(fi fs.FileInfo) (inode, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() || st.Nlink <= 1 {
		return inode{}, false
	}
	return inode{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // types differ per OS
}
