package build

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testplugin"
	"github.com/moby/buildkit/client"
)

// newTestExport is a rootfsExport into a temporary dir with a watchdog of
// the given timeout; canceled reports the cause the watchdog canceled with.
func newTestExport(t *testing.T, timeout time.Duration, extract extractFunc) (*rootfsExport, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	t.Cleanup(func() { cancel(nil) })
	wd := newWatchdog(timeout, cancel, func(phase string) string { return "hint for " + phase })
	t.Cleanup(wd.Stop)
	if extract == nil {
		extract = extractRootfs
	}
	return &rootfsExport{ctx: ctx, dir: filepath.Join(t.TempDir(), "rootfs"), w: wd, extract: extract}, ctx
}

func TestRootfsExportExtracts(t *testing.T) {
	e, ctx := newTestExport(t, time.Minute, nil)
	w, err := e.output(nil)
	if err != nil {
		t.Fatal(err)
	}
	data := testplugin.Tar(t, map[string]testplugin.File{"bin/tool": {Body: "#!/bin/sh\n"}, "etc/conf": {Body: "x=1\n"}})
	// Trailing zeros after the end-of-archive marker must not block.
	data = append(data, make([]byte, 4096)...)
	for len(data) > 0 {
		n := min(len(data), 100)
		if _, err := w.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(e.dir, "etc/conf")); err != nil || string(got) != "x=1\n" {
		t.Errorf("etc/conf = %q, %v", got, err)
	}
	if err := e.err(); err != nil {
		t.Errorf("err() = %v", err)
	}
	if ctx.Err() != nil {
		t.Errorf("solve canceled: %v", context.Cause(ctx))
	}
	if _, err := e.output(nil); err == nil {
		t.Error("a second export was accepted")
	}
}

func TestRootfsExportUnsafeEntry(t *testing.T) {
	e, _ := newTestExport(t, time.Minute, nil)
	w, err := e.output(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The extractor refuses the entry; BuildKit's writes then fail instead
	// of blocking on a pipe nobody reads.
	_, werr := w.Write(testplugin.Tar(t, map[string]testplugin.File{"../escape": {Body: "x"}}))
	_, werr2 := w.Write(make([]byte, 1<<16))
	cerr := w.Close()
	if werr == nil && werr2 == nil {
		t.Error("writes after a refused entry succeeded")
	}
	if cerr == nil || !strings.Contains(cerr.Error(), "extracting the rootfs") {
		t.Errorf("Close() = %v, want the extraction error", cerr)
	}
	if e.err() == nil {
		t.Error("err() = nil after a refused entry")
	}
}

// TestExportStallReceive: BuildKit opens the export, sends a little, then
// nothing: the watchdog cancels the solve with a StallError naming the
// phase, and Close does not hang.
func TestExportStallReceive(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e, ctx := newTestExport(t, timeout, nil)
	w, err := e.output(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(testplugin.Tar(t, map[string]testplugin.File{"a": {Body: "1"}})[:512]); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(20 * timeout):
		t.Fatal("no cancel after a stalled export")
	}
	if d := time.Since(start); d < timeout {
		t.Errorf("canceled after %v, before the %v timeout", d, timeout)
	}
	var st *StallError
	if !errors.As(context.Cause(ctx), &st) {
		t.Fatalf("cause %v, want *StallError", context.Cause(ctx))
	}
	if st.Phase != PhaseReceive || st.Received != 512 || st.Hint != "hint for "+PhaseReceive {
		t.Errorf("StallError %+v", st)
	}
	for _, want := range []string{"no progress for", PhaseReceive, "512 B", "hint for"} {
		if !strings.Contains(st.Error(), want) {
			t.Errorf("message %q lacks %q", st.Error(), want)
		}
	}
	if err := w.Close(); !errors.As(err, &st) {
		t.Errorf("Close() = %v, want the StallError", err)
	}
}

// TestExportStallWrite: a sink whose consumer stops reading (a hung disk)
// blocks BuildKit's Write; the watchdog fires, names dplug's side, and the
// blocked Write returns.
func TestExportStallWrite(t *testing.T) {
	const timeout = 300 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	stuck := func(ctx context.Context, r io.Reader, dir string) error {
		buf := make([]byte, 10)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		<-release // stops reading, and ignores ctx like a hung write would
		return errors.New("released")
	}
	e, ctx := newTestExport(t, timeout, stuck)
	w, err := e.output(nil)
	if err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, 1<<20))
		written <- err
	}()
	select {
	case err := <-written:
		var st *StallError
		if !errors.As(err, &st) {
			t.Fatalf("Write() = %v, want *StallError", err)
		}
		if st.Phase != PhaseWrite {
			t.Errorf("phase %q, want %q", st.Phase, PhaseWrite)
		}
	case <-time.After(20 * timeout):
		t.Fatal("Write into a sink that stopped reading never returned")
	}
	if ctx.Err() == nil {
		t.Error("solve not canceled")
	}
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	select {
	case err := <-closed:
		if err == nil {
			t.Error("Close() = nil after a stall")
		}
	case <-time.After(20 * timeout):
		t.Fatal("Close hung after a stall")
	}
}

// TestWatchdogIdleWithoutPhase: build steps may be silent for any time;
// only a watched phase times out, and progress restarts the clock.
func TestWatchdogIdleWithoutPhase(t *testing.T) {
	const timeout = 100 * time.Millisecond
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	wd := newWatchdog(timeout, cancel, nil)
	defer wd.Stop()
	deadline := time.Now().Add(5 * timeout)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			t.Fatalf("canceled without a watched phase: %v", context.Cause(ctx))
		}
		time.Sleep(timeout / 10)
	}
	wd.watch(PhaseFinish)
	deadline = time.Now().Add(5 * timeout)
	for time.Now().Before(deadline) {
		wd.status() // BuildKit keeps reporting (e.g. a cache export)
		if ctx.Err() != nil {
			t.Fatalf("canceled despite progress: %v", context.Cause(ctx))
		}
		time.Sleep(timeout / 10)
	}
	select {
	case <-ctx.Done():
	case <-time.After(50 * timeout):
		t.Fatal("no cancel once progress stopped")
	}
	var st *StallError
	if !errors.As(context.Cause(ctx), &st) || st.Phase != PhaseFinish {
		t.Errorf("cause %v, want a StallError in %q", context.Cause(ctx), PhaseFinish)
	}
}

// TestSolveOptExportsTar: the rootfs comes through the tar exporter, never
// the local one, which stalls on large trees (moby/buildkit#2950).
func TestSolveOptExportsTar(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, plats := range [][]string{nil, {"linux/amd64", "linux/arm64"}} {
		o := makeOptions(dir, []Option{WithPlatforms(plats...)})
		so, err := solveOpt(dir, &o)
		if err != nil {
			t.Fatal(err)
		}
		if len(so.Exports) != 1 || so.Exports[0].Type != client.ExporterTar || so.Exports[0].OutputDir != "" {
			t.Errorf("platforms %v: exports %+v, want one tar export", plats, so.Exports)
		}
	}
}
