package testenv

import (
	"os"
	"testing"
)

// ShortDir returns a new directory with a short path under os.TempDir,
// removed when the test ends: t.TempDir's paths (which hold the test's
// name) can make a unix socket below them longer than the 108 bytes a
// socket address holds.
func ShortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dplug-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// EmptyAtEnd fails t if dir holds anything when the test ends (before the
// removal of a ShortDir it is in): a run that was not cleaned up. A dir
// that does not exist is empty.
func EmptyAtEnd(t testing.TB, dir string) {
	t.Helper()
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			t.Errorf("%s still holds %s after the test", dir, e.Name())
		}
	})
}

// RunRoot is a ShortDir for run's state (run.WithRunRoot) that must be
// empty when the test ends.
func RunRoot(t testing.TB) string {
	t.Helper()
	dir := ShortDir(t)
	EmptyAtEnd(t, dir)
	return dir
}
