//go:build linux

package pack

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/internal/testenv"
)

// TestDeviceNodesRoundTrip packs a rootfs holding a device node and a FIFO
// (as dockerd does) and pulls it back as root.
func TestDeviceNodesRoundTrip(t *testing.T) {
	testenv.RequireRoot(t)
	ctx := context.Background()
	dir := testDir(t)
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(rootfs, "dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		testenv.Unavailable(t, "mknod: %v", err)
	}
	if err := unix.Mkfifo(filepath.Join(rootfs, "dev/fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	img := mustImage(t, dir)
	lay := filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(lay, img); err != nil {
		t.Fatal(err)
	}
	p, err := ReadLayout(lay)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := Unpack(ctx, p, out); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(out, "rootfs/dev/null"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		t.Errorf("dev/null came back as mode %o rdev %d:%d; want char 1:3", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if fi, err := os.Lstat(filepath.Join(out, "rootfs/dev/fifo")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("dev/fifo came back as %v, %v; want a FIFO", fi, err)
	}
}
