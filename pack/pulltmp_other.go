//go:build !unix

package pack

import "os"

// lockDir cannot lock outside Unix: it opens dir only.
func lockDir(dir string) (*os.File, error) { return os.Open(dir) }

// pullLocks is false: without locks, a stale pull temp dir cannot be told
// from a live one, so none is removed.
const pullLocks = false
