package probe

// Kill tests for mutants the probe tests left uncovered in the whole-package
// run of `make mutate` (issue 13).

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/plugin"
)

// TestCheckFailed: only a FAIL check is failed; a warning or a skip is not.
// Kills probe.go:58's `==` -> `!=`.
func TestCheckFailed(t *testing.T) {
	for _, tt := range []struct {
		st   Status
		want bool
	}{{StatusFail, true}, {StatusPass, false}, {StatusWarn, false}, {StatusSkip, false}} {
		if got := (Check{Status: tt.st}).Failed(); got != tt.want {
			t.Errorf("Check{Status: %s}.Failed() = %t, want %t", tt.st, got, tt.want)
		}
	}
}

// TestLogDrainDefaultWait: with the default drainWait (5 s), a driver that
// starts reading its FIFO a second after StartLogging still passes the
// drain check. Kills logdriver.go:15's `5 * time.Second` -> `5 / time.Second`
// (no wait at all: every driver slower than the probe's own write warns).
func TestLogDrainDefaultWait(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a second for the slow reader")
	}
	root := t.TempDir()
	d := &logDriver{root: root, noRead: true, files: map[string]*os.File{}}
	slow := func(method string, req map[string]any) (int, any) {
		code, body := d.handle(method, req)
		if method == "LogDriver.StartLogging" {
			d.mu.Lock()
			f := d.files[str(req, "File")]
			d.mu.Unlock()
			if f != nil {
				d.done.Add(1)
				time.AfterFunc(time.Second, func() { d.read(f) })
			}
		}
		return code, body
	}
	r := Run(context.Background(), serve(t, &fake{handle: slow}, false), []string{plugin.TypeLog}, WithRootfs(root))
	d.done.Wait()
	for _, c := range r.Checks {
		if c.Method == "(fifo)" && strings.Contains(c.Name, "reads") {
			if c.Status != StatusPass {
				t.Errorf("drain check %s (%s) with the default wait %v, want PASS for a reader a second late", c.Status, c.Reason, drainWait)
			}
			return
		}
	}
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	t.Errorf("no drain check among %s", strings.Join(names, "; "))
}
