package pack

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// pushReports pushes img and returns the progress reports and how long
// the push took.
func pushReports(t *testing.T, dir, ref string) ([]Progress, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var got []Progress
	img := mustImage(t, dir, WithCompressionLevel(0))
	start := time.Now()
	if _, err := Push(context.Background(), img, ref, anon, WithProgress(func(p Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	})); err != nil {
		t.Fatal(err)
	}
	return got, time.Since(start)
}

// TestPushProgress: a push reports its phases once each, in order
// (connecting, uploading, finishing), the uploaded bytes while they flow
// (at most every 100ms, and the end of each blob); a push with nothing to
// upload starts no uploading phase.
func TestPushProgress(t *testing.T) {
	dir := testDir(t)
	big := make([]byte, 2<<20)
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	host := newRegistry(t, nil)

	got, elapsed := pushReports(t, dir, host+"/p:1")
	var markers []string
	var bytes []Progress
	for _, p := range got {
		if p.Complete == 0 && p.Total == 0 {
			markers = append(markers, p.Phase)
		} else {
			bytes = append(bytes, p)
		}
	}
	if want := []string{PhaseConnecting, PhaseUploading, PhaseFinishing}; !equalStrings(markers, want) {
		t.Errorf("phases = %q; want %q once each (all reports: %+v)", markers, want, got)
	}
	partial, whole := 0, 0
	for _, p := range bytes {
		switch {
		case p.Phase != PhaseUploading || p.Complete > p.Total:
			t.Errorf("byte report %+v; want uploading, Complete <= Total", p)
		case p.Complete == p.Total:
			whole++
		default:
			partial++
		}
	}
	if partial == 0 || whole == 0 {
		t.Errorf("byte reports = %+v; want some while the 2 MiB layer uploads and one when it is done", bytes)
	}
	// One report when the upload starts, one per 100ms, one per blob done.
	if most := int(elapsed/(100*time.Millisecond)) + 4; len(bytes) > most {
		t.Errorf("%d byte reports in %v; want at most %d (one per 100ms)", len(bytes), elapsed, most)
	}

	// Everything is there already: nothing is uploaded.
	got, _ = pushReports(t, dir, host+"/p:2")
	markers = nil
	for _, p := range got {
		if p.Complete == 0 && p.Total == 0 {
			markers = append(markers, p.Phase)
		}
	}
	if want := []string{PhaseConnecting, PhaseFinishing}; !equalStrings(markers, want) {
		t.Errorf("second push: phases = %q; want %q, no uploading (all reports: %+v)", markers, want, got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
