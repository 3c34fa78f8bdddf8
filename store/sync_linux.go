package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole filesystem holding d: one syncfs(2) instead of
// an fsync per extracted file.
func syncFS(d *os.File) error { return unix.Syncfs(int(d.Fd())) }

// syncFSCoversFiles: syncFS flushes every file written on the filesystem,
// so a file about to be covered by it needs no fsync of its own.
const syncFSCoversFiles = true
