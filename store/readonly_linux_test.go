package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestReadOnlyStore: ls, inspect and doctor (without fix) work on a store
// mounted read-only; changes fail with ErrReadOnly and nothing is written.
func TestReadOnlyStore(t *testing.T) {
	s, root := openStore(t)
	p := install(t, s, "plug")
	leftover := filepath.Join(root, "plugins", "tmp", "work-dead")
	if err := os.MkdirAll(leftover, 0o700); err != nil {
		t.Fatal(err)
	}
	// A mode Open would fix on a writable store.
	if err := os.Chmod(filepath.Join(root, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	ro := testenv.ReadOnlyView(t, root)

	rs, err := Open(ro)
	if err != nil {
		t.Fatalf("Open of a read-only store: %v", err)
	}
	list, err := rs.List()
	if err != nil || len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("List = %v, %v", list, err)
	}
	if got, err := rs.Get(p.ShortID()); err != nil || got.FullName() != "plug:latest" {
		t.Fatalf("Get = %v, %v", got, err)
	}
	r, err := rs.Doctor(false)
	if err != nil {
		t.Fatalf("Doctor(false): %v", err)
	}
	roLeftover := filepath.Join(ro, "plugins", "tmp", "work-dead")
	if !r.ReadOnly || len(r.Leftovers) != 1 || r.Leftovers[0] != roLeftover || len(r.Removed) != 0 {
		t.Errorf("Doctor(false) = %+v", r)
	}
	if _, err := rs.Doctor(true); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Doctor(true) = %v, want ErrReadOnly", err)
	}
	if _, err := rs.Disable("plug"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Disable = %v, want ErrReadOnly", err)
	}
	if err := rs.Remove("plug", true); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Remove = %v, want ErrReadOnly", err)
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Errorf("leftover removed from a read-only store: %v", err)
	}
	if _, err := os.Stat(p.Rootfs()); err != nil {
		t.Errorf("plugin gone: %v", err)
	}
}
