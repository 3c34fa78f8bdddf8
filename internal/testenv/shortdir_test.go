package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRoot: a run root is short, passes when left empty, fails naming
// what was left otherwise, and is removed either way.
func TestRunRoot(t *testing.T) {
	for _, left := range []string{"", "0123456789ab"} {
		r := &fakeTB{TB: t}
		dir := RunRoot(r)
		if len(dir) > 40 {
			t.Errorf("run root %s: %d bytes, want a short path", dir, len(dir))
		}
		if left != "" {
			if err := os.Mkdir(filepath.Join(dir, left), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i := len(r.cleanups) - 1; i >= 0; i-- { // last first, as testing does
			r.cleanups[i]()
		}
		switch {
		case left == "" && len(r.errs) > 0:
			t.Errorf("empty run root: %q, want no error", r.errs)
		case left != "" && (len(r.errs) != 1 || !strings.Contains(r.errs[0], left)):
			t.Errorf("run root holding %s: %q, want one error naming it", left, r.errs)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("run root %s still there after the test: %v", dir, err)
		}
	}
}
