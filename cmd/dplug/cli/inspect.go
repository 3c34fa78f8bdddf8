package cli

import (
	"errors"

	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/store"
	"github.com/spf13/cobra"
)

func newInspectCmd(g *globalOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "inspect NAME...",
		Short:   "Show installed plugins as JSON, like docker plugin inspect",
		Long:    help("inspect"),
		Example: help("inspect.example"),
		Args:    withUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			views, notFound := s.Inspect(args...)
			if errors.Is(notFound, store.ErrDamaged) {
				return notFound
			}
			if format != "" {
				err = output.Each(g.stdout, "inspect", format, views)
			} else {
				err = output.JSON(g.stdout, views)
			}
			if err != nil {
				return err
			}
			return notFound
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Go template for each plugin")
	return cmd
}
