package testenv

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// fakeTB records how a helper ended the test (Skipf and Fatalf end the
// goroutine, like the real ones), the errors it reported, and its
// cleanups (for the test to run).
type fakeTB struct {
	testing.TB
	skipped, failed string
	errs            []string
	cleanups        []func()
}

func (f *fakeTB) Helper()             {}
func (f *fakeTB) Logf(string, ...any) {}
func (f *fakeTB) Cleanup(fn func())   { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestMissingEngine: an engine that is not installed skips the test on a
// laptop and fails it under CI=true, naming the missing binary and how to
// install it.
func TestMissingEngine(t *testing.T) {
	missing := Engine{Name: "99", Dockerd: "/nonexistent/dockerd", Containerd: "/nonexistent/containerd", Install: "scripts/setup.sh"}
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			f := &fakeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				StartDockerdEngine(f, missing)
			}()
			<-done
			for _, c := range f.cleanups {
				c()
			}
			msg, other := f.skipped, f.failed
			if ci == "true" {
				msg, other = f.failed, f.skipped
			}
			if other != "" {
				t.Errorf("CI=%q: also ended with %q", ci, other)
			}
			if os.Geteuid() != 0 {
				if !strings.Contains(msg, "needs root") {
					t.Errorf("CI=%q, not root: %q; want a needs-root skip or failure", ci, msg)
				}
				return
			}
			if !strings.Contains(msg, "engine 99: /nonexistent/dockerd not found (install: scripts/setup.sh)") {
				t.Errorf("CI=%q: %q; want the missing dockerd and how to install it", ci, msg)
			}
		})
	}
}

// TestEngines starts every engine with its own containerd where it brings
// one, checks the version it reports, that LoadBusybox gives it an image
// that runs, and that stopping it leaves no process or directory behind.
func TestEngines(t *testing.T) {
	if got := Engines(); len(got) != 2 || got[0].Name != "20.10" || got[1].Name != "26" {
		t.Fatalf("Engines() = %+v; want 20.10 and 26", got)
	}
	want := map[string]string{"20.10": "20.10.", "26": "26.1."}
	ForEachEngine(t, func(t *testing.T, e Engine) {
		d := StartDockerdEngine(t, e)
		if !strings.HasPrefix(d.Version, want[e.Name]) {
			t.Errorf("engine %s reports version %q", e.Name, d.Version)
		}
		out := d.MustDocker(t, "info", "--format", "{{.ContainerdCommit.ID}}")
		if e.Name == "26" && !strings.Contains(out, "1.7.") {
			t.Errorf("engine 26 runs containerd %q; want trixie's 1.7", out)
		}
		if _, err := d.Docker(context.Background(), "plugin", "ls"); err != nil {
			t.Fatal(err)
		}
		if ref := d.LoadBusybox(t); ref != BusyboxRef {
			t.Errorf("LoadBusybox = %q, want %q", ref, BusyboxRef)
		}
		if out := d.MustDocker(t, "run", "--rm", "--network", "none", BusyboxRef, "echo", "hi"); strings.TrimSpace(out) != "hi" {
			t.Errorf("busybox echo hi: %q", out)
		}
		d.Stop(t)
		if _, err := os.Stat(d.dir); !os.IsNotExist(err) {
			t.Errorf("%s still there after Stop: %v", d.dir, err)
		}
		if d.ctd != nil && d.ctd.ProcessState == nil {
			t.Errorf("containerd still running after Stop")
		}
	})
}
