//go:build !linux

package build

import "io/fs"

// inodeStamp: no ctime here (Linux only), so no build reuses a rootfs.
func inodeStamp(fs.FileInfo) (mtime, ctime int64, ids []uint64, ok bool) {
	return 0, 0, nil, false
}
