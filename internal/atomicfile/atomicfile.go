// Package atomicfile replaces a small file whole: a reader sees the old
// content or the new, never part of it.
//
// It serves the files a crash may lose but that must never be read half
// written: pack's layer cache entries, build's reuse state, the managed
// buildkitd's pid files, run's state records. Package store keeps its own writer for the
// inventory (a temp under the store's tmp/, a fault hook before the
// rename, the directory fsynced after it).
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of WriteFile's temp files, which live in the
// target's directory (.tmp-BASE-RANDOM): a caller that sweeps its
// directory removes old ones left by a killed process.
const TempPrefix = ".tmp-"

// WriteFile replaces path with data: it writes a temp file in path's
// directory, sets its mode to perm (exactly: no umask), and renames it over
// path. On any error the temp file is removed and path is left as it was;
// the error is the os package's, which names the file.
//
// With sync the temp file is fsynced before the rename, so that after a
// crash path holds the old content or all of the new. Without it a crash
// can leave path empty or missing (the rename may reach the disk before
// the data): only for files whose readers take an empty or invalid file
// for a missing one, and that are cheap to write again (a cache entry).
// Either way a running reader never sees part of data. The directory is
// not fsynced: the rename itself may be lost in a crash.
func WriteFile(path string, data []byte, perm fs.FileMode, sync bool) error {
	return writeFile(path, data, perm, sync, (*os.File).Write)
}

// writeFile is WriteFile with the temp file's Write given (tests inject a
// failing one).
func writeFile(path string, data []byte, perm fs.FileMode, sync bool, write func(*os.File, []byte) (int, error)) error {
	f, err := os.CreateTemp(filepath.Dir(path), TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	err = func() error {
		defer f.Close()
		if _, err := write(f, data); err != nil {
			return err
		}
		if err := f.Chmod(perm); err != nil {
			return err
		}
		if sync {
			if err := f.Sync(); err != nil {
				return err
			}
		}
		return f.Close()
	}()
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
