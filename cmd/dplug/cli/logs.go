package cli

import (
	"github.com/spf13/cobra"
)

func newLogsCmd(g *globalOptions) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME|DIR",
		Short: "Print the output of a plugin started with 'dplug run --detach'",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			inst, err := loadRun(g, args[0], " (its log goes when it is stopped)")
			if err != nil {
				return err
			}
			return inst.CopyLog(cmd.Context(), g.stdout, follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output until the plugin exits or Ctrl-C")
	return cmd
}
