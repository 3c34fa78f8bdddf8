//go:build unix

package validate

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// filesWithin runs Files and fails the test if it does not return within a
// generous bound (a blocking open of a FIFO would never return).
func filesWithin(t *testing.T, paths []string) (*Report, error) {
	t.Helper()
	type result struct {
		r   *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Files(paths)
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, res.err
	case <-time.After(20 * time.Second):
		t.Fatalf("Files(%v) blocked", paths)
		return nil, nil
	}
}

// TestFilesSpecial: a FIFO named config.json (as an argument, met in a
// walk, or behind a symlink) is refused without a blocking open; a
// directory named config.json met in a walk is an error, not skipped.
func TestFilesSpecial(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "arg", "config.json")
	writeFile(t, filepath.Join(dir, "arg", "x"), "")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := filesWithin(t, []string{fifo})
	if err == nil || !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("Files(FIFO) error = %v, want ErrNotRegular naming a named pipe", err)
	}

	walk := filepath.Join(dir, "walk")
	writeFile(t, filepath.Join(walk, "good", "config.json"), cfg(""))
	writeFile(t, filepath.Join(walk, "fifo", "x"), "")
	if err := syscall.Mkfifo(filepath.Join(walk, "fifo", "config.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(walk, "link", "x"), "")
	if err := syscall.Symlink(fifo, filepath.Join(walk, "link", "plugin-settings.json")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(walk, "dir", "config.json", "x"), "")
	r, err := filesWithin(t, []string{walk})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range r.Diagnostics {
		rel, _ := filepath.Rel(walk, d.File)
		got = append(got, rel+" "+d.Rule+" "+string(d.Severity)+" "+d.Message)
	}
	want := []string{
		"dir/config.json DP006 error config.json is a directory, not a file: docker plugin create fails on it",
		"fifo/config.json DP006 error config.json is a named pipe (FIFO), not a regular file: docker plugin create cannot read it",
		"link/plugin-settings.json DP006 error plugin-settings.json is a named pipe (FIFO), not a regular file: docker plugin create cannot read it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
