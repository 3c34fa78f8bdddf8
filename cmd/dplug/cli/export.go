package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/dest"
)

func newExportCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export NAME DIR",
		Short: "Write an installed plugin as a dir 'docker plugin create' accepts",
		Long: `Export writes DIR/config.json (the installed config) and DIR/rootfs/, so
that 'docker plugin create NAME DIR' recreates the plugin on a Docker
host. DIR must not exist or be empty. DIR is printed on stdout.`,
		Args: withUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			if _, err := s.Get(args[0]); err != nil {
				return err
			}
			if err := dest.CheckEmpty(args[1]); err != nil {
				return usageError(fmt.Errorf("exporting %s: %w", args[0], err))
			}
			if err := s.Export(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, args[1])
			return nil
		},
	}
}
