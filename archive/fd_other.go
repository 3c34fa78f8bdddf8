//go:build !linux

package archive

import (
	"io/fs"
	"os"
	"time"
)

// setFileTimes sets the times of f by its name (no futimens here).
func setFileTimes(f *os.File, atime, mtime time.Time) error {
	return setTimes(f.Name(), atime, mtime)
}

// processUmask: unknown here, so directory modes are always set with chmod.
func processUmask() (fs.FileMode, bool) { return 0, false }

// startWriteback: no portable way to start writeback without waiting; the
// caller's final sync does all of it.
func startWriteback(*os.File) {}
