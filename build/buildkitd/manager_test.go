package buildkitd_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/internal/testenv"
)

func TestBinaryMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		name    string
		find    func() (string, error)
		program string
		install string
	}{
		{"buildkitd", func() (string, error) { return buildkitd.Binary(t.TempDir()) }, "buildkitd", "dplug setup"},
		{"runc", buildkitd.Runc, "runc", "apt-get install runc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.find()
			var me *buildkitd.MissingError
			if !errors.As(err, &me) || !errors.Is(err, buildkitd.ErrMissing) {
				t.Fatalf("error %v, want a *MissingError", err)
			}
			if me.Program != tc.program || me.Install != tc.install {
				t.Errorf("got %+v", me)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "`"+tc.install+"`") {
				t.Errorf("message %q is not one line naming %q", msg, tc.install)
			}
		})
	}
}

func TestBinaryUnderRoot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	p := buildkitd.BinPath(root)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := buildkitd.Binary(root)
	if err != nil || got != p {
		t.Fatalf("Binary = %q, %v; want %q", got, err, p)
	}
}

func TestRunDir(t *testing.T) {
	short := buildkitd.New("/var/lib/dplug")
	if got, want := short.RunDir(), "/var/lib/dplug/run/buildkitd"; got != want {
		t.Errorf("RunDir = %q, want %q", got, want)
	}
	long := buildkitd.New("/" + strings.Repeat("x", 120))
	if got := long.Addr(); len(got) > len("unix://")+100 {
		t.Errorf("Addr %q too long for a unix socket", got)
	}
	if long.RunDir() == buildkitd.New("/"+strings.Repeat("y", 120)).RunDir() {
		t.Error("two long roots share a run dir")
	}
}

func TestStatusNotRunning(t *testing.T) {
	m := buildkitd.New(t.TempDir())
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Running {
		t.Errorf("status of a fresh root: %+v", st)
	}
	if stopped, err := m.Stop(context.Background()); err != nil || stopped {
		t.Errorf("Stop of nothing = %v, %v", stopped, err)
	}
}

// TestEnsure starts the managed daemon from several goroutines at once:
// exactly one start, one daemon, which a stale pid file does not confuse.
func TestEnsure(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "runc", "apt-get install runc")
	bin := testenv.BuildkitdBinary(t)
	root := t.TempDir()
	m := buildkitd.New(root, buildkitd.WithBinary(bin))
	t.Cleanup(func() {
		if _, err := m.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	// A stale pid file (pid 1 is not buildkitd) must not count as running.
	if err := os.MkdirAll(m.RunDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m.RunDir(), "buildkitd.pid"), []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	const n = 3
	var wg sync.WaitGroup
	addrs := make([]string, n)
	started := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs[i], started[i], errs[i] = m.Ensure(context.Background())
		}()
	}
	wg.Wait()
	starts := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Ensure: %v", errs[i])
		}
		if addrs[i] != m.Addr() {
			t.Errorf("addr %q, want %q", addrs[i], m.Addr())
		}
		if started[i] {
			starts++
		}
	}
	if starts != 1 {
		t.Errorf("%d Ensure calls started a daemon, want 1", starts)
	}
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || !st.Answering {
		t.Fatalf("status %+v, want running and answering", st)
	}
	fi, err := os.Stat(m.RunDir())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("run dir mode %v, want 0700", fi.Mode().Perm())
	}
	if m.LastUse().IsZero() {
		t.Error("LastUse not recorded")
	}
	stopped, err := m.Stop(context.Background())
	if err != nil || !stopped {
		t.Fatalf("Stop = %v, %v", stopped, err)
	}
	if st, _ := m.Status(context.Background()); st.Running {
		t.Errorf("still running after Stop: %+v", st)
	}
}

// TestStopWhenIdle: the daemon is not stopped while a build uses it, and is
// stopped once it has been idle for the timeout.
func TestStopWhenIdle(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "runc", "apt-get install runc")
	m := buildkitd.New(t.TempDir(), buildkitd.WithBinary(testenv.BuildkitdBinary(t)))
	t.Cleanup(func() { _, _ = m.Stop(context.Background()) })
	ctx := context.Background()
	release, err := m.Use(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Ensure(ctx); err != nil {
		release()
		t.Fatal(err)
	}
	const idle = 300 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- m.StopWhenIdle(ctx, idle) }()

	// In use all along: it must survive three idle periods (a wait for
	// something not to happen, failing as soon as it does).
	select {
	case err := <-done:
		t.Fatalf("StopWhenIdle returned while in use: %v", err)
	case <-time.After(3 * idle):
	}
	if st, _ := m.Status(ctx); !st.Running {
		t.Fatal("stopped while in use")
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("idle daemon not stopped")
	}
	if st, _ := m.Status(ctx); st.Running {
		t.Errorf("still running: %+v", st)
	}
}
