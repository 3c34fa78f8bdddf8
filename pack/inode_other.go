//go:build !unix

package pack

import "io/fs"

// hardlinkKey reports no hard links where the OS does not expose inodes:
// each name is stored as a regular file.
func hardlinkKey(fs.FileInfo) (inode, bool) { return inode{}, false }
