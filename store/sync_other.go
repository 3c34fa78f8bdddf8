//go:build !linux

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes everything (no syncfs outside Linux).
func syncFS(*os.File) error {
	unix.Sync()
	return nil
}
