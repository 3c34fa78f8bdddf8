package cli

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/pack"
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

// checkPushArch refuses to publish a plugin whose entrypoint is built for
// another architecture than platform ("" for this host's).
func checkPushArch(img v1.Image, platform string) error {
	r, err := pack.CheckImage(img, platform)
	if err != nil {
		return err
	}
	return r.PushError(platform)
}
