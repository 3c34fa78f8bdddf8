package cli

import (
	"errors"
	"fmt"

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
			var (
				views []inspect
				errs  []error
			)
			for _, a := range args {
				p, err := s.Get(a)
				if errors.Is(err, store.ErrDamaged) {
					return err // one line for the whole store, not one per name
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				views = append(views, inspectView(p))
			}
			if format != "" {
				tmpl, err := parseFormat("inspect", format)
				if err != nil {
					return usageError(fmt.Errorf("parsing --format: %w", err))
				}
				for _, v := range views {
					if err := executeFormat(g.stdout, tmpl, v); err != nil {
						return fmt.Errorf("executing --format: %w", err)
					}
					fmt.Fprintln(g.stdout)
				}
			} else {
				if views == nil {
					views = []inspect{}
				}
				if err := writeJSON(g.stdout, views); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Go template for each plugin")
	return cmd
}
