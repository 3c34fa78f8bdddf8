package cli

import (
	"fmt"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/plugin"
)

// warnArch checks the entrypoint of a plugin being consumed (installed,
// pulled) against platform ("" for this host) and shows the warning that
// ends with consequence, if any, on stderr (entrypoint.Result.Warning).
func warnArch(g *globalOptions, rootfs string, cfg *plugin.Config, platform, consequence string) {
	if w := entrypoint.Check(rootfs, cfg, platform).Warning(platform, consequence); w != "" {
		fmt.Fprintln(g.stderr, "dplug: warning: "+w)
	}
}
