package archive

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setFileTimes sets the times of the open file f (futimens: no path
// lookup, unlike setTimes).
func setFileTimes(f *os.File, atime, mtime time.Time) error {
	if mtime.IsZero() {
		return nil
	}
	if atime.IsZero() {
		atime = mtime
	}
	ts := [2]unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, f.Fd(), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("setting times on %s: %w", f.Name(), e)
	}
	return nil
}

// processUmask reads the process's umask without changing it (umask(2)
// would, for a moment, for every thread).
func processUmask() (fs.FileMode, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			if err != nil {
				return 0, false
			}
			return fs.FileMode(n), true
		}
	}
	return 0, false
}

// startWriteback starts writing f's dirty pages to disk and returns
// without waiting (SYNC_FILE_RANGE_WRITE). Best effort: the caller's final
// sync is what makes the data durable.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
