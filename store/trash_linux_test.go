package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/internal/testenv"
)

// busyDir mounts a tmpfs at dir (a mount point cannot be deleted, so
// RemoveAll of anything above it fails) and detaches, at the end of the
// test, every mount under root wherever the store moved it.
func busyDir(t *testing.T, root, dir string) {
	t.Helper()
	testenv.RequireRoot(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, ""); err != nil {
		testenv.Unavailable(t, "mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Error(err)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 4 && strings.HasPrefix(f[4], root+"/") {
				if err := unix.Unmount(f[4], unix.MNT_DETACH); err != nil {
					t.Errorf("unmounting %s: %v", f[4], err)
				}
			}
		}
	})
}

// TestRemovedDirGoesThroughTmp: the dir of a removed or replaced plugin is
// moved under tmp/ and deleted there: nothing is left of it, and a
// deletion that stops midway (here: at a mount point inside it) leaves a
// leftover in tmp/, never a half-deleted dir among the plugin dirs.
func TestRemovedDirGoesThroughTmp(t *testing.T) {
	ops := []struct {
		name    string
		op      func(t *testing.T, s *Store) error
		wantErr string // the error of a deletion that stops midway, if the op reports it
	}{
		{"remove", func(_ *testing.T, s *Store) error { return s.Remove("plug", true) }, "removing plug:latest: "},
		{"install --replace", func(t *testing.T, s *Store) error {
			_, err := s.Install(context.Background(), DirSource(pluginDir(t, testConfig())), InstallOptions{Name: "plug", Replace: true, Grant: GrantAll})
			return err
		}, ""},
	}
	for _, tt := range ops {
		for _, busy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/busy=%v", tt.name, busy), func(t *testing.T) {
				s, root := openStore(t)
				p := install(t, s, "plug", func(o *InstallOptions) { o.Disabled = true })
				wantErr := ""
				if busy {
					busyDir(t, root, filepath.Join(p.Rootfs(), "busy"))
					wantErr = tt.wantErr
				}
				if err := tt.op(t, s); (err == nil) != (wantErr == "") || (err != nil && !strings.HasPrefix(err.Error(), wantErr)) {
					t.Fatalf("error %v, want %q", err, wantErr)
				}
				if _, err := os.Lstat(p.Dir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the old plugin dir %s is still among the plugin dirs: %v", p.Dir, err)
				}
				trash := filepath.Join(s.Dir(), tmpDir, "rm-"+p.ID)
				if busy {
					if _, err := os.Stat(filepath.Join(trash, rootfsDir, "busy")); err != nil {
						t.Errorf("the undeletable rest is not under tmp/: %v", err)
					}
				} else if _, err := os.Lstat(trash); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the old plugin dir was left in tmp/: %v", err)
				}
			})
		}
	}
}

// TestInstallSyncsPluginDir: once the files are written, the install
// flushes the whole plugin dir with one syncfs (the debug log records it).
func TestInstallSyncsPluginDir(t *testing.T) {
	var buf bytes.Buffer
	s, _ := openStore(t, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	install(t, s, "plug")
	if !strings.Contains(buf.String(), `msg="plugin dir synced"`) {
		t.Errorf("install did not sync the plugin dir; log:\n%s", buf.String())
	}
}
