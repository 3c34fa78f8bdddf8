package cli

import (
	"fmt"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/plugin"
)

// archWarning checks the entrypoint of a plugin being consumed (installed,
// pulled) against platform ("" for this host) and returns the warning line
// that ends with consequence, or "" (entrypoint.Result.Warning).
func archWarning(rootfs string, cfg *plugin.Config, platform, consequence string) string {
	if w := entrypoint.Check(rootfs, cfg, platform).Warning(platform, consequence); w != "" {
		return "dplug: warning: " + w
	}
	return ""
}

// warnArch shows archWarning's warning, if any, on stderr.
func warnArch(g *globalOptions, rootfs string, cfg *plugin.Config, platform, consequence string) {
	if w := archWarning(rootfs, cfg, platform, consequence); w != "" {
		fmt.Fprintln(g.stderr, w)
	}
}
