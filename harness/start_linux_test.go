//go:build cgo

package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/probe"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
)

// volplug is the test volume plugin in mode ("" serves normally) as a
// run.Plugin with a fresh ID.
func volplug(t *testing.T, mode string) run.Plugin {
	t.Helper()
	testenv.RequireRoot(t)
	cfg := testplugin.ModeConfig(mode)
	dir := testplugin.Dir(t, &cfg)
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return run.Plugin{ID: hex.EncodeToString(id), Name: "example.com/me/volplug:dev", Rootfs: filepath.Join(dir, "rootfs"),
		Config: cfg, Settings: cfg.DefaultSettings()}
}

func startT(t *testing.T, p run.Plugin, opts ...Option) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, p, append([]Option{WithRunOptions(run.WithRunRoot(testenv.RunRoot(t)))}, opts...)...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background(), 0) })
	return s
}

// startDying starts volplug in its dieonremove mode and asks it to remove
// a volume, on which it exits (code 4, "dying on Remove").
func startDying(t *testing.T, ctx context.Context) *Session {
	t.Helper()
	s := startT(t, volplug(t, "dieonremove"))
	var resp struct{ Err string }
	_, _ = probe.NewClient(s.Socket()).CallJSON(ctx, "VolumeDriver.Remove", map[string]string{"Name": "x"}, &resp)
	return s
}

func TestStartTest(t *testing.T) {
	p := volplug(t, "")
	var out testenv.Buffer
	s := startT(t, p, WithOutput(&out))
	if !cmp.Equal(s.Implements, []string{"VolumeDriver"}) || len(s.Missing) > 0 {
		t.Errorf("activation: Implements %v, Missing %v", s.Implements, s.Missing)
	}
	rep, err := s.Test(context.Background(), time.Second)
	if err != nil {
		t.Fatalf("Test: %v", err)
	}
	if rep.Failed() > 0 || rep.Socket != s.Socket() {
		t.Errorf("report: %d failed, socket %q (want %q): %+v", rep.Failed(), rep.Socket, s.Socket(), rep.Checks)
	}
	if last := rep.Checks[len(rep.Checks)-1]; last.Method != "(process)" || last.Status != probe.StatusPass {
		t.Errorf("last check: %+v", last)
	}
	if s.Running() {
		t.Error("the plugin still runs after Test")
	}
	if !strings.Contains(out.String(), "volplug:dev | volplug starting") {
		t.Errorf("the plugin's output is not prefixed with its short name:\n%s", out.String())
	}
}

func TestStartMissingImplements(t *testing.T) {
	s := startT(t, volplug(t, "wrongimpl"))
	if !cmp.Equal(s.Implements, []string{"NetworkDriver"}) || !cmp.Equal(s.Missing, []string{"VolumeDriver"}) {
		t.Errorf("activation: Implements %v, Missing %v", s.Implements, s.Missing)
	}
}

func TestWait(t *testing.T) {
	t.Run("canceled", func(t *testing.T) {
		s := startT(t, volplug(t, ""))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Wait(ctx); !errors.Is(err, context.Canceled) || !s.Running() {
			t.Errorf("Wait = %v, running %v: want context.Canceled and the plugin left running", err, s.Running())
		}
	})
	t.Run("exited", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s := startDying(t, ctx)
		var ee *ExitError
		if err := s.Wait(ctx); !errors.As(err, &ee) || ee.Code != 4 || !strings.Contains(strings.Join(ee.Log, "\n"), "dying on Remove") {
			t.Errorf("Wait = %v, want an *ExitError with code 4 and the last output", err)
		}
	})
}

func TestStartDetach(t *testing.T) {
	root := testenv.RunRoot(t)
	p := volplug(t, "")
	s, err := Start(context.Background(), p, WithRunOptions(run.WithRunRoot(root)), WithDetach(true))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := run.Load(p.ID, run.WithRunRoot(root))
	if err != nil {
		t.Fatalf("Load of the detached run: %v", err)
	}
	var log bytes.Buffer
	if err := inst.CopyLog(context.Background(), &log, false); err != nil || !strings.Contains(log.String(), "volplug starting") {
		t.Errorf("CopyLog: %v\n%s", err, log.String())
	}
	if err := inst.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Error("still running after Stop")
	}
}

func TestServe(t *testing.T) {
	t.Run("canceled", func(t *testing.T) {
		s := startT(t, volplug(t, ""))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var w bytes.Buffer
		if err := s.Serve(ctx, time.Second, &w); err != nil || s.Running() {
			t.Errorf("Serve = %v, running %v: want nil and the plugin stopped", err, s.Running())
		}
		want := "dplug: example.com/me/volplug:dev is ready; Ctrl-C stops it\ndplug: stopping example.com/me/volplug:dev\n"
		if w.String() != want {
			t.Errorf("Serve wrote %q, want %q", w.String(), want)
		}
	})
	t.Run("exited", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s := startDying(t, ctx)
		var w bytes.Buffer
		var ee *ExitError
		if err := s.Serve(ctx, time.Second, &w); !errors.As(err, &ee) || strings.Contains(w.String(), "stopping") {
			t.Errorf("Serve = %v, wrote %q: want an *ExitError and no stopping line", err, w.String())
		}
	})
}

// Settings.Start starts a plugin dir from its source and warns on Warn
// about the interfaces its activation answer lacks.
func TestSettingsStart(t *testing.T) {
	testenv.RequireRoot(t)
	cfg := testplugin.ModeConfig("wrongimpl")
	src, err := source.Open(context.Background(), testplugin.Dir(t, &cfg))
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	s, err := Settings{RunRoot: testenv.RunRoot(t), Timeout: 30 * time.Second, Warn: &warn}.Start(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background(), 0) })
	if want := "dplug: warning: " + s.MissingWarning() + "\n"; s.MissingWarning() == "" || warn.String() != want {
		t.Errorf("Warn got %q, want %q", warn.String(), want)
	}
}

func TestWriteTest(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		failed bool
	}{{"", false}, {"wrongimpl", true}} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			s := startT(t, volplug(t, tc.mode))
			var w bytes.Buffer
			failed, err := s.WriteTest(context.Background(), time.Second, &w, "json")
			if err != nil || failed != tc.failed {
				t.Fatalf("WriteTest = %v, %v; want failed %v", failed, err, tc.failed)
			}
			if !strings.HasPrefix(w.String(), "{") || s.Running() {
				t.Errorf("report %q, running %v: want a JSON report and the plugin stopped", w.String(), s.Running())
			}
		})
	}
}
