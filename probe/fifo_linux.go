//go:build linux

package probe

import (
	"fmt"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// makeFIFO creates the FIFO inside at root/inside (the path as the plugin
// sees it; symlinks in the plugin's tree are resolved within root, never
// out of it) and opens it the way dockerd does
// (daemon/logger/plugin_unix.go openPluginStream: O_RDWR|O_CREAT|O_NONBLOCK):
// holding both ends never blocks, whether or not the plugin has opened its
// reader yet, and a reader the plugin opens blocking returns at once.
func makeFIFO(root, inside string) (*fifo, error) {
	dir, err := securejoin.SecureJoin(root, filepath.Dir(inside))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	host := filepath.Join(dir, filepath.Base(inside))
	if err := unix.Mkfifo(host, 0o600); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: host, Err: err}
	}
	fd, err := unix.Open(host, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(host)
		return nil, &os.PathError{Op: "open", Path: host, Err: err}
	}
	return &fifo{fd: fd, path: host}, nil
}

// fifo is the probe's end of a log FIFO: a raw non-blocking descriptor, so
// that a write to a full pipe fails instead of waiting.
type fifo struct {
	fd   int
	path string // host path
}

func (f *fifo) Write(b []byte) (int, error) {
	n, err := unix.Write(f.fd, b)
	if err != nil {
		return n, &os.PathError{Op: "write", Path: f.path, Err: err}
	}
	return n, nil
}

// unread returns how many bytes written to the FIFO nobody has read yet.
func (f *fifo) unread() (int, error) {
	n, err := unix.IoctlGetInt(f.fd, unix.TIOCINQ)
	if err != nil {
		return 0, fmt.Errorf("TIOCINQ (FIONREAD) on %s: %w", f.path, err)
	}
	return n, nil
}

// Close closes the descriptor and removes the FIFO, as dockerd does when
// the container stops (daemon/logger/adapter.go pluginAdapter.Close).
func (f *fifo) Close() error {
	unix.Close(f.fd)
	return os.Remove(f.path)
}
