//go:build cgo

package harness

import (
	"os"
	"testing"

	"github.com/dplug/dplug/run"
)

// init keeps the main goroutine on the main thread, as cmd/dplug does: see
// run.LockMainThread.
func init() { run.LockMainThread() }

// TestMain lets the test binary serve as libcontainer's re-exec target, the
// way cmd/dplug's main does.
func TestMain(m *testing.M) {
	if run.IsContainerInit() {
		run.ContainerInit()
	}
	os.Exit(m.Run())
}
