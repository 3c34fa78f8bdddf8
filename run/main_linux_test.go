package run

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as libcontainer's re-exec target, the
// way cmd/dplug's main does.
func TestMain(m *testing.M) {
	if IsContainerInit() {
		ContainerInit()
	}
	os.Exit(m.Run())
}
