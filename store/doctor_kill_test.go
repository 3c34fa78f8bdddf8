package store

// Kill tests for the doctor.go survivors of `make mutate` (issue 13).

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestDoctorOrphanListError: when the store dir can be searched but not
// listed (mode 0300), the inventory still reads and the orphan scan fails;
// Doctor reports that error instead of a clean bill of health. Root reads
// any dir, so in CI the test runs as nobody. Kills doctor.go:127's
// `err != nil` -> `err == nil` (the orphans() error dropped).
func TestDoctorOrphanListError(t *testing.T) {
	if testenv.RunAsNobody(t) {
		return
	}
	for _, fix := range []bool{false, true} {
		s, root := openStore(t)
		install(t, s, "keep")
		plugins := filepath.Join(root, "plugins")
		if err := os.Chmod(plugins, 0o300); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(plugins, 0o755) })
		if _, err := os.ReadFile(filepath.Join(plugins, inventoryFile)); err != nil {
			t.Fatalf("the inventory should stay readable in a 0300 dir: %v", err)
		}
		_, err := s.Doctor(fix)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "reading "+plugins) {
			t.Errorf("Doctor(%v) with %s unlistable = %v, want its permission error", fix, plugins, err)
		}
	}
}

// TestDoctorRebuildReportsWhereDirsWent: in a rebuild, a dir moved aside
// whose name lost+found already holds goes to name-1, and the report says
// so (not the planned lost+found/name, which is someone else's). Kills
// doctor.go:308's `err != nil` -> `err == nil` (the report keeps the
// planned path).
func TestDoctorRebuildReportsWhereDirsWent(t *testing.T) {
	s, root := openStore(t)
	install(t, s, "a")
	plugins := filepath.Join(root, "plugins")
	if err := os.WriteFile(filepath.Join(plugins, inventoryFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(plugins, "junk")
	taken := filepath.Join(plugins, lostFoundDir, "junk")
	for _, d := range []string{junk, taken} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(junk, "mark"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := s.Doctor(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.MovedAside) != 2 {
		t.Fatalf("Doctor(true).MovedAside = %+v, want the damaged inventory and junk", r.MovedAside)
	}
	want := taken + "-1"
	if m := r.MovedAside[1]; m.From != junk || m.To != want {
		t.Errorf("MovedAside[1] = %+v, want %s moved to %s", m, junk, want)
	}
	if _, err := os.Stat(filepath.Join(want, "mark")); err != nil {
		t.Errorf("junk is not at %s: %v", want, err)
	}
	if _, err := os.Stat(filepath.Join(taken, "mark")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("junk landed on %s, which was taken: %v", taken, err)
	}
}
