package pack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestCompressionLevels: every gzip level from 0 (none) to 9 packs, and
// -1 (the library's default); anything else is refused before packing.
func TestCompressionLevels(t *testing.T) {
	dir := testDir(t)
	for _, tc := range []struct {
		level int
		ok    bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {9, true}, {10, false}} {
		t.Run(fmt.Sprint(tc.level), func(t *testing.T) {
			img, err := Image(context.Background(), dir, WithCompressionLevel(tc.level))
			if err == nil {
				defer img.(interface{ Close() error }).Close()
			}
			if tc.ok && err != nil {
				t.Fatalf("level %d: %v; want it packed", tc.level, err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "out of range")) {
				t.Fatalf("level %d: %v; want it refused as out of range", tc.level, err)
			}
		})
	}
}

// TestPackingProgress: packing reports progress at once, then at most
// every 100ms, and ends with everything packed: Complete == Total == the
// bytes of the rootfs's regular files.
func TestPackingProgress(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"config.json": `{"Description":"x","Documentation":"https://example.invalid",
"Entrypoint":["/p"],"Interface":{"Types":["docker.volumedriver/1.0"],"Socket":"p.sock"}}`}
	var total int64
	for i := range 200 {
		body := strings.Repeat("x", 1000+i)
		files[fmt.Sprintf("rootfs/d%d/f%03d", i%7, i)] = body
		total += int64(len(body))
	}
	writeFiles(t, dir, files)
	var got []Progress
	start := time.Now()
	mustImage(t, dir, WithProgress(func(p Progress) { got = append(got, p) }))
	elapsed := time.Since(start)
	if len(got) < 2 {
		t.Fatalf("progress = %+v; want a report when packing starts and one at the end", got)
	}
	first, last := got[0], got[len(got)-1]
	if first.Phase != "packing" || first.Complete <= 0 || first.Complete >= total || first.Total != total {
		t.Errorf("first report = %+v; want packing, part of %d bytes", first, total)
	}
	if last.Phase != "packing" || last.Complete != total || last.Total != total {
		t.Errorf("last report = %+v; want packing, %d of %d", last, total, total)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Complete < got[i-1].Complete {
			t.Errorf("progress went back: %+v after %+v", got[i], got[i-1])
		}
	}
	// One report when packing starts, one per 100ms after, and the last.
	if most := int(elapsed/(100*time.Millisecond)) + 2; len(got) > most {
		t.Errorf("%d progress reports in %v for 200 files; want at most %d (one per 100ms)", len(got), elapsed, most)
	}
}

// TestSpooledLayerUncompressed: a spooled layer read directly (pack's
// images go through Compressed) gives its tar, a cached layer whose
// packing fails gives that error, and spooled bytes that are not gzip are
// refused with an error naming the spool.
func TestSpooledLayerUncompressed(t *testing.T) {
	dir := testDir(t)
	l, err := buildLayer(filepath.Join(dir, "rootfs"), makeOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	h, n, err := v1.SHA256(rc)
	if err != nil {
		t.Fatal(err)
	}
	if h != l.diffID || n != l.uncSize {
		t.Errorf("Uncompressed() hashes to %s (%d bytes); want the diff_id %s (%d bytes)", h, n, l.diffID, l.uncSize)
	}

	boom := errors.New("boom")
	lazy := &spooledLayer{lazy: func() (*spooledLayer, error) { return nil, boom }}
	if rc, err := lazy.Uncompressed(); rc != nil || !errors.Is(err, boom) {
		t.Errorf("Uncompressed() of a layer that fails to pack = %v, %v; want nil, boom", rc, err)
	}

	f, err := os.CreateTemp(t.TempDir(), "spool")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("not gzip at all"); err != nil {
		t.Fatal(err)
	}
	bad := &spooledLayer{f: f, size: 15}
	defer bad.Close()
	if rc, err := bad.Uncompressed(); rc != nil || err == nil || !strings.Contains(err.Error(), "reading spooled layer") {
		t.Errorf("Uncompressed() of a spool that is not gzip = %v, %v; want an error reading the spooled layer", rc, err)
	}
}

// TestSpooledLayerClose: Close closes the spool of a packed layer, and of
// a cached layer the spool its packing made; a cached layer never read has
// none, and closing twice is fine.
func TestSpooledLayerClose(t *testing.T) {
	rootfs := filepath.Join(testDir(t), "rootfs")
	l, err := buildLayer(rootfs, makeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("after Close the spool answers Stat with %v; want it closed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	lazy := &spooledLayer{lazy: func() (*spooledLayer, error) { return buildLayer(rootfs, makeOptions()) }}
	rc, err := lazy.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if err := lazy.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := lazy.packed.f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("after Close the packed spool answers Stat with %v; want it closed", err)
	}

	never := &spooledLayer{lazy: func() (*spooledLayer, error) { t.Error("Close packed the layer"); return nil, nil }}
	if err := never.Close(); err != nil {
		t.Errorf("Close of a cached layer never read: %v", err)
	}
}
