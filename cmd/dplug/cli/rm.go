package cli

import (
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
				if p, err := s.Get(a); err == nil { // else Remove reports it
					if err := run.Release(cmd.Context(), p.ID, p.FullName(), force, runOpts(g)...); err != nil {
						errs = append(errs, err)
						continue
					}
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
