package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDoctorCleansKilledPulls: a pull records the dir it writes into; the
// temp dir a killed pull left there is reported by doctor and removed by
// doctor --fix, while a live pull's temp dir (locked) and anything else in
// that dir stay.
func TestDoctorCleansKilledPulls(t *testing.T) {
	host := memRegistry(t)
	ref := host + "/doctor/plug:1"
	if code, _, errOut := dplug(t, "push", smallPluginDir(t, 3, nil), ref); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	root, parent := t.TempDir(), t.TempDir()
	if r := runStore(t, root, "pull", ref, filepath.Join(parent, "full")); r.code != 0 {
		t.Fatalf("pull: exit %d: %s", r.code, r.stderr)
	}
	mk := func(name string) string {
		p := filepath.Join(parent, name)
		if err := os.MkdirAll(filepath.Join(p, "rootfs"), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk(".k1.dplug-pull-123")
	live := mk(".k2.dplug-pull-456")
	other := mk(".notapull")
	fd, err := unix.Open(live, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	r := runStore(t, root, "doctor")
	if r.code != 1 || !strings.Contains(r.stdout, "found the temp dir of an interrupted pull "+stale) || strings.Contains(r.stdout, live) {
		t.Errorf("doctor: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = runStore(t, root, "doctor", "--fix")
	if r.code != 0 || !strings.Contains(r.stdout, "removed the temp dir of an interrupted pull "+stale) {
		t.Errorf("doctor --fix: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for p, want := range map[string]bool{stale: false, live: true, other: true, filepath.Join(parent, "full"): true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", p, err == nil, want)
		}
	}
	// The record stays while a pull temp dir (the live one) is there.
	if ents, _ := os.ReadDir(filepath.Join(root, "pulls")); len(ents) != 1 {
		t.Errorf("pull records after --fix with a live pull: %d, want 1", len(ents))
	}
	unix.Flock(fd, unix.LOCK_UN)
	os.RemoveAll(live)
	if r := runStore(t, root, "doctor", "--fix"); r.code != 0 {
		t.Errorf("doctor --fix: exit %d: %s", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "pulls")); len(ents) != 0 {
		t.Errorf("pull records once no pull temp dir is left: %d, want 0", len(ents))
	}
}
