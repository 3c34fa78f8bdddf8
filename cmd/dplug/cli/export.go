package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/source"
)

func newExportCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export NAME DIR",
		Short: "Write an installed plugin as a dir 'docker plugin create' accepts",
		Args:  withUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := openSource(cmd.Context(), g, args[0], source.WithKinds(source.Installed), source.Unchecked())
			if err != nil {
				return err
			}
			if _, err := (&dest.Dir{Path: args[1]}).Deliver(cmd.Context(), src); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, args[1])
			return nil
		},
	}
}
