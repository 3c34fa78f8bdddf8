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
		s := startT(t, volplug(t, "dieonremove"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var resp struct{ Err string }
		_, _ = probe.NewClient(s.Socket()).CallJSON(ctx, "VolumeDriver.Remove", map[string]string{"Name": "x"}, &resp)
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
