//go:build !linux

package store

import "os"

// syncFS flushes d itself only: syncfs(2) is Linux's. The plugin store is
// meant for Linux (plugins run there); elsewhere it stays usable for
// inspection and export with weaker durability.
func syncFS(d *os.File) error { return d.Sync() }

// syncFSCoversFiles: syncFS flushes d only; files need their own fsync.
const syncFSCoversFiles = false
