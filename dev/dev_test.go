package dev

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoopRebuildsOnChangeOnly(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"rootfs", ".git", "src"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var runs atomic.Int32
	iters := make(chan Iteration, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Loop(ctx, dir, []Step{{Name: "build", Run: func(context.Context) (string, error) {
			runs.Add(1)
			return "ok", nil
		}}}, Options{Debounce: 500 * time.Millisecond, Report: func(it Iteration) { iters <- it }})
	}()
	next := func(what string) Iteration {
		t.Helper()
		select {
		case it := <-iters:
			return it
		case <-time.After(10 * time.Second):
			t.Fatalf("no iteration after %s", what)
		}
		return Iteration{}
	}
	if it := next("start"); it.N != 1 || !strings.Contains(it.String(), "#1 build") {
		t.Fatalf("first iteration: %s", it)
	}
	// Ignored: rootfs/ and .git/ changes.
	os.WriteFile(filepath.Join(dir, "rootfs", "x"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".git", "index"), nil, 0o644)
	// Several quick saves make one iteration (the debounce is long enough
	// that a loaded machine's gaps between the three writes stay under it).
	for i := 0; i < 3; i++ {
		os.WriteFile(filepath.Join(dir, "src", "main.go"), []byte{byte(i)}, 0o644)
	}
	if it := next("a save"); it.N != 2 {
		t.Fatalf("second iteration: %s", it)
	}
	select {
	case it := <-iters:
		t.Fatalf("unexpected iteration %s", it)
	case <-time.After(1500 * time.Millisecond): // nothing else changed: no iteration may come
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Loop after cancel: %v", err)
	}
	if runs.Load() != 2 {
		t.Errorf("steps ran %d times, want 2", runs.Load())
	}
}

func TestIterationStopsAtFailure(t *testing.T) {
	boom := errors.New("boom")
	ran := false
	err := Loop(context.Background(), t.TempDir(), []Step{
		{Name: "build", Run: func(context.Context) (string, error) { return "", boom }},
		{Name: "test", Run: func(context.Context) (string, error) { ran = true; return "", nil }},
	}, Options{Once: true, Report: func(it Iteration) {
		if !strings.Contains(it.String(), "build") || !strings.Contains(it.String(), "FAILED") {
			t.Errorf("line %q", it)
		}
	}})
	if !errors.Is(err, boom) || ran {
		t.Fatalf("err = %v, test ran = %v", err, ran)
	}
}

func TestIgnored(t *testing.T) {
	for p, want := range map[string]bool{"rootfs/bin/x": true, ".git/HEAD": true, "main.go": false, "sub/.main.go.swp": true, "config.json": false, "a~": true} {
		if got := ignored(p); got != want {
			t.Errorf("ignored(%s) = %v", p, got)
		}
	}
}
