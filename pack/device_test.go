//go:build linux

package pack

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/internal/testenv"
)

// TestDeviceNodesRoundTrip packs a rootfs holding a device node and a FIFO
// (as dockerd does); pulling it back refuses them, like install.
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
	p, _ := viaLayout(t, mustImage(t, dir))
	// The layer holds them, as dockerd's would.
	types := map[string]byte{}
	err := p.Layers(ctx, func(r io.Reader) error {
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			types[hdr.Name] = hdr.Typeflag
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if types["dev/null"] != tar.TypeChar || types["dev/fifo"] != tar.TypeFifo {
		t.Errorf("layer entries dev/null, dev/fifo have types %q, %q; want a char device and a FIFO",
			types["dev/null"], types["dev/fifo"])
	}
	// Pulling them back applies install's policy: refused.
	parent := t.TempDir()
	if err := Unpack(ctx, p, filepath.Join(parent, "out")); !errors.Is(err, archive.ErrUnsafe) {
		t.Fatalf("Unpack = %v; want archive.ErrUnsafe (no device nodes, like install)", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("Unpack left %v behind", entries)
	}
}
