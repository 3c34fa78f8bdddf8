//go:build unix

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// tryLockFile takes an exclusive flock(2) on f without waiting. The lock
// dies with the process, which is what lets cleaners tell a live work dir
// from a leftover.
func tryLockFile(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}

// writable reports whether this process may create files in dir (false on
// a read-only mount, even for root).
func writable(dir string) bool { return unix.Access(dir, unix.W_OK) == nil }
