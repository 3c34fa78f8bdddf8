package probe

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// maxSocketPath is the longest path a unix socket address holds on Linux.
const maxSocketPath = 107

// Dial connects to the unix socket at path. Paths too long for a socket
// address (deep temporary directories) are reached through
// /proc/self/fd/N/<name> of their directory, so that callers need not care.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	if len(path) <= maxSocketPath {
		return d.DialContext(ctx, "unix", path)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", path, err)
	}
	defer dir.Close()
	short := "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + filepath.Base(path)
	if len(short) > maxSocketPath {
		return nil, fmt.Errorf("dialing %s: socket name too long", path)
	}
	c, err := d.DialContext(ctx, "unix", short)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", path, err)
	}
	return c, nil
}
