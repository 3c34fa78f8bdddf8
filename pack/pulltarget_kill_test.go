package pack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPullTargets: a pull goes into a missing or an empty directory (the
// empty one is replaced by the pulled plugin dir); a directory with
// anything in it, or a file, is refused and left as it was.
func TestPullTargets(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	ref := host + "/team/plug:1.0"
	if _, err := Push(ctx, mustImage(t, testDir(t)), ref, anon); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	pulled := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "rootfs", "bin", "plug"))
		return err == nil
	}

	missing := filepath.Join(base, "missing")
	if err := Pull(ctx, ref, missing, anon); err != nil || !pulled(missing) {
		t.Errorf("pull into a missing dir: %v; want the plugin there", err)
	}

	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Pull(ctx, ref, empty, anon); err != nil || !pulled(empty) {
		t.Errorf("pull into an empty dir: %v; want the plugin there", err)
	}

	full := filepath.Join(base, "full")
	writeFiles(t, full, map[string]string{"keep": "mine"})
	if err := Pull(ctx, ref, full, anon); err == nil || !strings.Contains(err.Error(), "exists and is not empty") {
		t.Errorf("pull into a dir with a file in it: %v; want it refused as not empty", err)
	}
	if b, err := os.ReadFile(filepath.Join(full, "keep")); err != nil || string(b) != "mine" || pulled(full) {
		t.Errorf("the refused dir changed: keep = %q, %v", b, err)
	}

	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Pull(ctx, ref, file, anon); err == nil {
		t.Error("pull onto a file succeeded; want it refused")
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "mine" {
		t.Errorf("the file changed: %q, %v", b, err)
	}
}
