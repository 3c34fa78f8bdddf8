package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole filesystem holding d: one syncfs(2) instead of
// an fsync per extracted file.
func syncFS(d *os.File) error { return unix.Syncfs(int(d.Fd())) }
