//go:build !linux

package treestamp

import "io/fs"

// Of: stamps are Linux-only (where plugins run), so there is none here and
// Walk fails with ErrNoStamp.
func Of(fs.FileInfo) (Stamp, bool) { return Stamp{}, false }
