package pack

import (
	"archive/tar"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestPullStripsSetuidAndCaps: a file that is both setuid and has file
// capabilities loses both in a dir others can enter (dropping the setuid
// bit does not end the strip before the capabilities), and keeps both in
// the default 0700 dir.
func TestPullStripsSetuidAndCaps(t *testing.T) {
	testenv.RequireRoot(t) // only root keeps setuid bits and sets capabilities
	layer := gzipEntries(t, []entry{
		{hdr: tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "bin/both", Mode: 0o4755, Format: tar.FormatPAX,
			PAXRecords: map[string]string{"SCHILY.xattr.security.capability": capNetRaw}}, body: "b"},
	})
	host := fakeRegistry(t, newArtifact(t, layer, nil), nil)
	for _, tt := range []struct {
		name string
		opts []Option
		keep bool
	}{
		{"default 0700", nil, true},
		{"0755", []Option{WithDirMode(0o755)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := Pull(context.Background(), host+"/x/p:1", out, append([]Option{anon}, tt.opts...)...); err != nil {
				t.Fatal(err)
			}
			both := filepath.Join(out, "rootfs/bin/both")
			fi, err := os.Lstat(both)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode()&fs.ModeSetuid != 0; got != tt.keep {
				t.Errorf("bin/both: mode %v; want the setuid bit kept = %v", fi.Mode(), tt.keep)
			}
			if caps, ok := fileCaps(both); ok != tt.keep || (ok && caps != capNetRaw) {
				t.Errorf("bin/both capabilities = %q, %v; want kept = %v", caps, ok, tt.keep)
			}
		})
	}
}
