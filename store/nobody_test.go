package store

import (
	"archive/tar"
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestRemoveReadOnlyTreeUnprivileged: a rootfs with read-only directories
// installs and removes without root (the store makes the tree writable
// before deleting it); as root in CI it runs as nobody.
func TestRemoveReadOnlyTreeUnprivileged(t *testing.T) {
	if testenv.RunAsNobody(t) {
		return
	}
	s, root := openStore(t)
	c := testConfig()
	cfg, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	src := layers{cfg: cfg, layers: [][]byte{mktar(t,
		&tar.Header{Name: "ro/", Typeflag: tar.TypeDir, Mode: 0o555},
		&tar.Header{Name: "ro/sub/", Typeflag: tar.TypeDir, Mode: 0o500},
		&tar.Header{Name: "ro/sub/f", Typeflag: tar.TypeReg, Mode: 0o444},
	)}}
	p, err := s.Install(context.Background(), src, InstallOptions{Name: "ro", Grant: GrantAll})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("ro", true); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Stat(p.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("plugin dir still there: %v", err)
	}
	assertClean(t, root, 0)
}
