//go:build unix

package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// entries lists dir's names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	old := syscall.Umask(0o077) // perm is set exactly, whatever the umask
	t.Cleanup(func() { syscall.Umask(old) })
	tests := []struct {
		name string
		old  string // "" : no file before
		perm fs.FileMode
		sync bool
	}{
		{"new, private, synced", "", 0o600, true},
		{"new, shared, not synced", "", 0o644, false},
		{"replaces a longer file", "a longer old content\n", 0o640, true},
		{"replaces a shorter file", "x", 0o600, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte(`{"new":true}`), tt.perm, tt.sync); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); string(got) != `{"new":true}` {
				t.Errorf("content %q", got)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.perm {
				t.Errorf("mode %v; want %v", fi.Mode().Perm(), tt.perm)
			}
			if names := entries(t, dir); len(names) != 1 {
				t.Errorf("the directory holds %q; want only state.json", names)
			}
		})
	}
}

// TestWriteFileFails: whatever step fails, the target keeps its old
// content, whole, and no temp file is left.
func TestWriteFileFails(t *testing.T) {
	boom := errors.New("disk full")
	halfWrite := func(f *os.File, b []byte) (int, error) {
		n, _ := f.Write(b[:len(b)/2])
		return n, boom
	}
	closedWrite := func(f *os.File, b []byte) (int, error) {
		f.Close() // Chmod, Sync and Close fail on a closed file
		return len(b), nil
	}
	tests := []struct {
		name  string
		write func(*os.File, []byte) (int, error)
		setup func(t *testing.T, path string) // makes the rename fail
		want  error
	}{
		{"write fails half way", halfWrite, nil, boom},
		{"chmod fails", closedWrite, nil, os.ErrClosed},
		{"rename fails", (*os.File).Write, func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(path, "sub"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, nil},
	}
	for _, sync := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s, sync %t", tt.name, sync), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "entry.json")
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if tt.setup != nil {
					tt.setup(t, path)
				}
				err := writeFile(path, []byte("new content"), 0o600, sync, tt.write)
				if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
					t.Fatalf("error %v; want %v", err, tt.want)
				}
				if tt.setup == nil {
					if got, _ := os.ReadFile(path); string(got) != "old" {
						t.Errorf("the target holds %q; want the old content whole", got)
					}
				}
				for _, n := range entries(t, dir) {
					if strings.HasPrefix(n, TempPrefix) {
						t.Errorf("temp file %s left behind", n)
					}
				}
			})
		}
	}
}

func TestWriteFileNoDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "entry.json")
	if err := WriteFile(path, []byte("x"), 0o600, false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v; want ErrNotExist", err)
	}
}

// TestTempName: temp files start with TempPrefix and the target's name,
// in the target's directory, so that a caller's sweep finds them.
func TestTempName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	var name string
	_ = writeFile(path, nil, 0o600, false, func(f *os.File, b []byte) (int, error) {
		name = f.Name()
		return 0, errors.New("stop")
	})
	if filepath.Dir(name) != dir || !strings.HasPrefix(filepath.Base(name), TempPrefix+"x.json-") {
		t.Errorf("temp file %s; want %s/%sx.json-*", name, dir, TempPrefix)
	}
}
