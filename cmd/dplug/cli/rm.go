package cli

import (
	"fmt"

	"github.com/dplug/dplug/harness"
	"github.com/dplug/dplug/store"
	"github.com/spf13/cobra"
)

func newRmCmd(g *globalOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove installed plugins",
		Args:    withUsage(cobra.MinimumNArgs(1)),
		RunE: withStore(g, func(cmd *cobra.Command, s *store.Store, args []string) error {
			removed, err := harness.Remove(cmd.Context(), s, args, force, runOpts(g)...)
			for _, n := range removed {
				fmt.Fprintln(g.stdout, n)
			}
			return err
		}),
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove even if enabled")
	return cmd
}
