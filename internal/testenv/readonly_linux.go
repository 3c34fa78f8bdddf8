package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// ReadOnlyView bind-mounts dir read-only at a new path and returns it,
// unmounting it when the test ends: a tree even root cannot write (a chmod
// would not stop root). It needs root; it checks that a write there fails
// with EROFS.
func ReadOnlyView(t testing.TB, dir string) string {
	t.Helper()
	RequireRoot(t)
	ro := t.TempDir()
	if err := unix.Mount(dir, ro, "", unix.MS_BIND, ""); err != nil {
		Unavailable(t, "bind mount: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(ro, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", ro, err)
		}
	})
	if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remounting %s read-only: %v", ro, err)
	}
	if err := os.WriteFile(filepath.Join(ro, "probe"), nil, 0o600); !errors.Is(err, unix.EROFS) {
		t.Fatalf("the read-only view is writable: %v", err)
	}
	return ro
}
