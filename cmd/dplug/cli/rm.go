package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/store"
	"github.com/spf13/cobra"
)

func newRmCmd(g *globalOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove installed plugins",
		Long:    help("rm"),
		Args:    withUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			var errs []error
			for _, a := range args {
				if err := stopBeforeRemove(cmd.Context(), g, s, a, force); err != nil {
					errs = append(errs, err)
					continue
				}
				if err := s.Remove(a, force); err != nil {
					if errors.Is(err, store.ErrDamaged) {
						return err // one line for the whole store, not one per name
					}
					if errors.Is(err, store.ErrEnabled) {
						err = fmt.Errorf("%w (disable it first, or use --force)", err)
					}
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(g.stdout, a)
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove even if enabled")
	return cmd
}

// stopBeforeRemove refuses to remove a plugin that is running (its rootfs is
// mounted by the container) unless force is set, in which case it stops the
// plugin and cleans up its run first, as dockerd disables before `rm -f`.
func stopBeforeRemove(ctx context.Context, g *globalOptions, s *store.Store, name string, force bool) error {
	p, err := s.Get(name)
	if err != nil {
		return nil // Remove reports it
	}
	inst, err := run.Load(p.ID, run.WithRunRoot(runRoot(g)), run.WithLogger(g.log))
	if err != nil {
		return nil // no run recorded (or none possible on this OS): nothing to stop
	}
	if inst.Running() && !force {
		return fmt.Errorf("plugin %s is running: `dplug stop %s` first, or use --force", p.FullName(), p.FullName())
	}
	if err := inst.Stop(ctx, run.DefaultGrace); err != nil {
		return fmt.Errorf("stopping %s before removing it: %w", p.FullName(), err)
	}
	return nil
}
