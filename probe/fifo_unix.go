//go:build unix

package probe

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// makeFIFO creates a FIFO at path and opens it read-write (opening it for
// writing only would block until the plugin opens it).
func makeFIFO(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	return os.OpenFile(path, os.O_RDWR, 0)
}
