package cli

import (
	"github.com/spf13/cobra"

	"github.com/dplug/dplug/store"
)

func newSetCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME KEY=VALUE...",
		Short: "Change a plugin's settable env, args, mount sources or device paths",
		Args:  withUsage(cobra.MinimumNArgs(2)),
		RunE: withStore(g, func(_ *cobra.Command, s *store.Store, args []string) error {
			_, err := s.Set(args[0], args[1:])
			return err
		}),
	}
}
