package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// seedRecorder is a testing.TB that records what Seed logs and reports.
type seedRecorder struct {
	testing.TB
	logs     []string
	failed   bool
	fatal    string
	cleanups []func()
}

func (r *seedRecorder) Helper()          {}
func (r *seedRecorder) Name() string     { return "TestRandom" }
func (r *seedRecorder) Failed() bool     { return r.failed }
func (r *seedRecorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *seedRecorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, sprintf(format, args...))
}
func (r *seedRecorder) Fatalf(format string, args ...any) {
	r.fatal = sprintf(format, args...)
}

var sprintf = fmt.Sprintf

func TestSeed(t *testing.T) {
	t.Run("set", func(t *testing.T) {
		t.Setenv(SeedEnv, "42")
		r := &seedRecorder{TB: t}
		if got := Seed(r); got != 42 {
			t.Errorf("Seed = %d, want 42", got)
		}
		if len(r.logs) != 1 || !strings.Contains(r.logs[0], "seed 42 ") || !strings.Contains(r.logs[0], "DPLUG_SEED=42") {
			t.Errorf("start log %q, want the seed and how to replay it", r.logs)
		}
		r.failed = true
		for _, f := range r.cleanups {
			f()
		}
		if len(r.logs) != 2 || !strings.Contains(r.logs[1], "DPLUG_SEED=42 go test -run '^TestRandom$'") {
			t.Errorf("failure log %q, want the replay command", r.logs)
		}
	})
	t.Run("random", func(t *testing.T) {
		t.Setenv(SeedEnv, "")
		a, b := Seed(&seedRecorder{TB: t}), Seed(&seedRecorder{TB: t})
		if a == b {
			t.Errorf("two random seeds are both %d", a)
		}
	})
	t.Run("default", func(t *testing.T) {
		t.Setenv(SeedEnv, "")
		if got := SeedDefault(&seedRecorder{TB: t}, 9); got != 9 {
			t.Errorf("SeedDefault = %d, want 9", got)
		}
		t.Setenv(SeedEnv, "42")
		if got := SeedDefault(&seedRecorder{TB: t}, 9); got != 42 {
			t.Errorf("SeedDefault with DPLUG_SEED=42 = %d, want 42", got)
		}
		t.Setenv(SeedEnv, "random")
		if a, b := SeedDefault(&seedRecorder{TB: t}, 9), SeedDefault(&seedRecorder{TB: t}, 9); a == b {
			t.Errorf("DPLUG_SEED=random gave %d twice", a)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		t.Setenv(SeedEnv, "x")
		r := &seedRecorder{TB: t}
		Seed(r)
		if !strings.Contains(r.fatal, `DPLUG_SEED="x"`) {
			t.Errorf("fatal %q, want the bad value named", r.fatal)
		}
	})
	t.Run("passing run logs once", func(t *testing.T) {
		t.Setenv(SeedEnv, "7")
		r := &seedRecorder{TB: t}
		Seed(r)
		for _, f := range r.cleanups {
			f()
		}
		if len(r.logs) != 1 {
			t.Errorf("logs %q, want only the start line", r.logs)
		}
	})
}
