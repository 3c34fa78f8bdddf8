package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestReadOnlyStoreCommands: ls, inspect and doctor (without --fix) work
// on a store mounted read-only; doctor --fix says why it cannot.
func TestReadOnlyStoreCommands(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	mustStore(t, root, "install", smallPluginDir(t, 2, nil), "--alias", "me/ro", "--grant-all-permissions")
	ro := testenv.ReadOnlyView(t, root)
	if out := mustStore(t, ro, "ls", "-q", "--no-trunc"); len(strings.TrimSpace(out)) != 64 {
		t.Errorf("ls on a read-only store: %q", out)
	}
	if out := mustStore(t, ro, "inspect", "--format", "{{.Name}}", "me/ro"); out != "me/ro:latest\n" {
		t.Errorf("inspect on a read-only store: %q", out)
	}
	if r := runStore(t, ro, "doctor"); r.code != 0 || !strings.Contains(r.stderr, "is consistent") {
		t.Errorf("doctor on a read-only store: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runStore(t, ro, "doctor", "--fix"); r.code == 0 || !strings.Contains(r.stderr, "read-only") {
		t.Errorf("doctor --fix on a read-only store: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "plugins", "plugins.json")); err != nil {
		t.Fatal(err)
	}
}
