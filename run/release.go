package run

import (
	"context"
	"fmt"
)

// Release makes way for removing the plugin with the given ID (name is for
// messages): a plugin that is running keeps its rootfs mounted, so it is
// an error unless force, which stops it and cleans up its run first, as
// dockerd disables before `rm -f`; a run left over is cleaned up too. With
// no run recorded (or none possible on this OS) there is nothing to do.
func Release(ctx context.Context, id, name string, force bool, opts ...Option) error {
	inst, err := Load(id, opts...)
	if err != nil {
		return nil
	}
	if inst.Running() && !force {
		return fmt.Errorf("plugin %s is running: `dplug stop %s` first, or use --force", name, name)
	}
	if err := inst.Stop(ctx, DefaultGrace); err != nil {
		return fmt.Errorf("stopping %s before removing it: %w", name, err)
	}
	return nil
}
