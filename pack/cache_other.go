//go:build !linux

package pack

import "io/fs"

// inodeStamp: the layer cache is Linux-only (where plugins run); other
// systems pack every time.
func inodeStamp(fs.FileInfo) (mtime, ctime int64, ids []uint64, ok bool) { return 0, 0, nil, false }

// Indexes into inodeStamp's ids (unused here).
const (
	idUID = iota
	idGID
	idIno
	idNlink
	idDev
	idRdev
)
