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
		Use:   "inspect NAME...",
		Short: "Show installed plugins as JSON, like docker plugin inspect",
		Args:  withUsage(cobra.MinimumNArgs(1)),
		RunE: withStore(g, func(_ *cobra.Command, s *store.Store, args []string) error {
			views, notFound := s.Inspect(args...)
			if errors.Is(notFound, store.ErrDamaged) {
				return notFound
			}
			if err := output.Inspect(g.stdout, "inspect", format, views); err != nil {
				return err
			}
			return notFound
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Go template for each plugin")
	return cmd
}
