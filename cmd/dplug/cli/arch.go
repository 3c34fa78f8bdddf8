package cli

import (
	"fmt"
	"runtime"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/plugin"
)

// archWarning checks the entrypoint of a plugin being consumed (installed,
// pulled, run) against platform ("" for this host) and returns a warning
// that ends with consequence, or "" when it matches or the architecture
// cannot be told statically.
func archWarning(rootfs string, cfg *plugin.Config, platform, consequence string) string {
	r := entrypoint.Check(rootfs, cfg, platform)
	if r.Verdict != entrypoint.Mismatch {
		return ""
	}
	msg := fmt.Sprintf("dplug: warning: %s but %s: %s", r.Subject(), against(platform), consequence)
	if r.Want == runtime.GOARCH && entrypoint.Emulated(r.Arch) {
		msg += fmt.Sprintf(" (here a qemu binfmt handler for %s is registered, so it runs emulated)", r.Arch)
	}
	return msg
}

// warnArch shows archWarning's warning, if any, on stderr.
func warnArch(g *globalOptions, rootfs string, cfg *plugin.Config, platform, consequence string) {
	if w := archWarning(rootfs, cfg, platform, consequence); w != "" {
		fmt.Fprintln(g.stderr, w)
	}
}

// against names what a plugin is checked against, for messages.
func against(platform string) string {
	if platform == "" || entrypoint.Arch(platform) == runtime.GOARCH {
		return "this host is " + runtime.GOARCH
	}
	return "the platform asked for is " + platform
}
