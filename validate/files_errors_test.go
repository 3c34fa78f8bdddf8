package validate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestFilesArgumentErrors: an argument that cannot be read is named once,
// with the reason, and still matches fs errors. It runs unprivileged (as
// nobody under root) so that a mode-000 file is unreadable.
func TestFilesArgumentErrors(t *testing.T) {
	if testenv.RunAsNobody(t) {
		return
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope", "config.json")
	tests := []struct {
		name, path, want string
		is               error
	}{
		{"missing", missing, "reading " + missing + ": no such file or directory", fs.ErrNotExist},
	}
	{
		locked := filepath.Join(dir, "locked.json")
		if err := os.WriteFile(locked, []byte("{}"), 0o000); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name, path, want string
			is               error
		}{"unreadable", locked, "reading " + locked + ": permission denied", fs.ErrPermission})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Files([]string{tt.path})
			if err == nil || err.Error() != tt.want || !errors.Is(err, tt.is) {
				t.Fatalf("Files error = %v; want %q (and errors.Is %v)", err, tt.want, tt.is)
			}
			if strings.Count(err.Error(), tt.path) != 1 {
				t.Errorf("%q names the path more than once", err)
			}
		})
	}
}
