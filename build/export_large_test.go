package build_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
)

// TestBuildExportsLargeRootfs builds a final stage of 50,000 files / 300 MB,
// the size at which BuildKit's local exporter stalled forever (issue 10: a
// log driver on a whole golang image, 26,981 entries / 140 MB), and checks
// it arrives whole, in bounded time. It runs in `make test`, not -short.
func TestBuildExportsLargeRootfs(t *testing.T) {
	e := setup(t)
	const (
		dirs    = 100
		perDir  = 500
		size    = 6000 // bytes per file: 50,000 × 6,000 = 300 MB
		files   = dirs * perDir
		maxTook = 8 * time.Minute
	)
	// Shell builtins only (printf, [, arithmetic): one fork per directory,
	// not per file. Zeros are fine: the stall came from the entry count.
	dockerfile := fmt.Sprintf(`FROM base
RUN s=$(head -c %d /dev/zero | tr '\0' x) && d=0 && \
    while [ $d -lt %d ]; do mkdir -p /data/$d; f=0; \
      while [ $f -lt %d ]; do printf %%s "$s" > /data/$d/$f; f=$((f+1)); done; \
      d=$((d+1)); done
`, size, dirs, perDir)
	ctxDir := project(t, map[string]string{"Dockerfile": dockerfile})
	out := filepath.Join(t.TempDir(), "plugin")
	ctx, cancel := context.WithTimeout(context.Background(), maxTook)
	defer cancel()
	start := time.Now()
	res, err := build.Run(ctx, ctxDir, &dest.Dir{Path: out}, e.opts(t, build.WithExportTimeout(time.Minute))...)
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	t.Logf("built and exported %d files in %v", files, res.Took)

	var n, bytes int64
	err = filepath.WalkDir(filepath.Join(out, "rootfs", "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n++
			bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != files || bytes != files*size {
		t.Errorf("rootfs/data has %d files, %d bytes; want %d, %d", n, bytes, files, files*size)
	}
	assertNoStaging(t, filepath.Dir(out))
}
