package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestDefaultRootUnprivileged: without root and DPLUG_ROOT, the store is
// $XDG_DATA_HOME/dplug (not /var/lib/dplug, which only root may write). As
// root (CI) it runs as nobody.
func TestDefaultRootUnprivileged(t *testing.T) {
	if testenv.RunAsNobody(t) {
		return
	}
	data := t.TempDir()
	t.Setenv("DPLUG_ROOT", "")
	t.Setenv("XDG_DATA_HOME", data)
	if code, _, stderr := dplug(t, "ls"); code != 0 {
		t.Fatalf("ls: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "dplug", "plugins")); err != nil {
		t.Errorf("the store is not under $XDG_DATA_HOME/dplug: %v", err)
	}
}
