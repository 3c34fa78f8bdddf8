package pack

import (
	"os"

	"golang.org/x/sys/unix"
)

// fileCaps returns the security.capability xattr of path (file
// capabilities, which a binary like ping needs to keep), if any.
func fileCaps(path string) (string, bool) {
	buf := make([]byte, 128)
	n, err := unix.Lgetxattr(path, "security.capability", buf)
	if err != nil || n <= 0 {
		return "", false
	}
	return string(buf[:n]), true
}

// dropCaps removes the file capabilities of path, if it has any.
func dropCaps(path string) error {
	err := unix.Lremovexattr(path, "security.capability")
	if err == nil || err == unix.ENODATA || err == unix.ENOTSUP {
		return nil
	}
	return &os.PathError{Op: "removexattr", Path: path, Err: err}
}
