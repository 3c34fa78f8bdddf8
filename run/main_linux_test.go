//go:build cgo

package run

import (
	"os"
	"testing"
)

// init keeps the main goroutine on the main thread, as cmd/dplug does: see
// LockMainThread.
func init() { LockMainThread() }

// TestMain lets the test binary serve as libcontainer's re-exec target, the
// way cmd/dplug's main does.
func TestMain(m *testing.M) {
	if IsContainerInit() {
		ContainerInit()
	}
	os.Exit(m.Run())
}
