package pack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
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
