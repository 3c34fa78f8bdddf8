//go:build !linux

package archive

import (
	"os"
	"time"
)

// setFileTimes sets the times of f by its name (no futimens here).
func setFileTimes(f *os.File, atime, mtime time.Time) error {
	return setTimes(f.Name(), atime, mtime)
}
