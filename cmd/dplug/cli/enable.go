package cli

import (
	"fmt"

	"github.com/dplug/dplug/store"
	"github.com/spf13/cobra"
)

func newEnableCmd(g *globalOptions) *cobra.Command {
	return newFlagCmd(g, "enable", "Mark an installed plugin enabled", (*store.Store).Enable)
}

func newFlagCmd(g *globalOptions, use, short string, fn func(*store.Store, string) (*store.Plugin, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Long: short + `. There is no daemon: this only changes the store's flag
('dplug run' starts a plugin). The name is printed on stdout.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: withStore(g, func(_ *cobra.Command, s *store.Store, args []string) error {
			if _, err := fn(s, args[0]); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, args[0])
			return nil
		}),
	}
}
