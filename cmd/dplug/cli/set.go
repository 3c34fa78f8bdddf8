package cli

import (
	"github.com/spf13/cobra"
)

func newSetCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "set NAME KEY=VALUE...",
		Short:   "Change a plugin's settable env, args, mount sources or device paths",
		Long:    help("set"),
		Example: help("set.example"),
		Args:    withUsage(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			_, err = s.Set(args[0], args[1:])
			return err
		},
	}
}
