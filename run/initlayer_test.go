package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetupInitLayer(t *testing.T) {
	rootfs := t.TempDir()
	if err := os.WriteFile(filepath.Join(rootfs, ".dockerenv"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := setupInitLayer(rootfs); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"dev/pts", "dev/shm", "proc", "sys"} {
		if fi, err := os.Stat(filepath.Join(rootfs, d)); err != nil || !fi.IsDir() {
			t.Errorf("/%s: %v", d, err)
		}
	}
	for _, f := range []string{"etc/resolv.conf", "etc/hosts", "etc/hostname", "dev/console"} {
		if fi, err := os.Stat(filepath.Join(rootfs, f)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("/%s: %v", f, err)
		}
	}
	if l, err := os.Readlink(filepath.Join(rootfs, "etc/mtab")); err != nil || l != "/proc/mounts" {
		t.Errorf("/etc/mtab -> %q, %v", l, err)
	}
	if b, _ := os.ReadFile(filepath.Join(rootfs, ".dockerenv")); string(b) != "keep" {
		t.Errorf("existing /.dockerenv overwritten: %q", b)
	}
	// Idempotent.
	if err := setupInitLayer(rootfs); err != nil {
		t.Errorf("second run: %v", err)
	}
}

func TestSetupInitLayerStaysInside(t *testing.T) {
	outside := t.TempDir()
	rootfs := t.TempDir()
	// etc points outside the rootfs: nothing may be created there.
	if err := os.Symlink(outside, filepath.Join(rootfs, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := setupInitLayer(rootfs); err == nil {
		t.Error("setupInitLayer followed a symlink out of the rootfs without an error")
	}
	entries, _ := os.ReadDir(outside)
	for _, e := range entries {
		t.Errorf("created outside the rootfs: %s", e.Name())
	}
}

// TestSetupInitLayerClosesFiles: the files it creates are closed (dplug
// run lives as long as the plugin: a leaked descriptor per file would stay
// open for all that time).
func TestSetupInitLayerClosesFiles(t *testing.T) {
	rootfs := t.TempDir()
	if err := setupInitLayer(rootfs); err != nil {
		t.Fatal(err)
	}
	// The descriptors open on anything in the rootfs (other tests' may come
	// and go meanwhile; none of theirs points there).
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(target, rootfs+"/") {
			t.Errorf("descriptor %s still open on %s", e.Name(), target)
		}
	}
}
