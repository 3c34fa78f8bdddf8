package harness

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/plugin"
)

// explainExecFormat adds what the static check found to an error that
// ends in "exec format error" (a foreign binary started without emulation).
func explainExecFormat(err error, rootfs string, cfg *plugin.Config) error {
	if err == nil || !strings.Contains(err.Error(), "exec format error") {
		return err
	}
	r := entrypoint.Check(rootfs, cfg, "")
	switch r.Verdict {
	case entrypoint.Mismatch:
		return fmt.Errorf("%w\n%s but this host is %s: install the plugin built for linux/%s (a multi-platform push names it TAG-%s), or register a qemu-user-static binfmt handler for %s", err, r.Subject(), runtime.GOARCH, runtime.GOARCH, runtime.GOARCH, r.Arch)
	case entrypoint.Unknown:
		return fmt.Errorf("%w\n%s", err, r.Subject())
	}
	return err
}
