//go:build !unix

package store

import (
	"errors"
	"os"
)

// tryLockFile: directory locks need flock(2); without them installs are
// refused rather than left unprotected from cleaners.
func tryLockFile(*os.File) error {
	return errors.New("the plugin store needs a Unix system (flock on directories)")
}

// writable: without access(2), assume the store is writable; a write that
// fails says why.
func writable(string) bool { return true }
