//go:build unix

package source

import (
	"os"
	"syscall"
)

// openNonblock opens path for reading without blocking on a FIFO.
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
