package cli

import (
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/store"
	"github.com/spf13/cobra"
)

// lsOptions are the flags of `dplug ls`.
type lsOptions struct {
	format  string
	quiet   bool
	noTrunc bool
	filters []string
}

func newLsCmd(g *globalOptions) *cobra.Command {
	var o lsOptions
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List installed plugins",
		Args:    withUsage(cobra.NoArgs),
		RunE: withStore(g, func(_ *cobra.Command, s *store.Store, _ []string) error {
			keep, err := store.Filter(o.filters)
			if err != nil {
				return usageError(err)
			}
			rows, err := s.Rows(keep, o.noTrunc)
			if err != nil {
				return err
			}
			return printLs(g, &o, rows)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "Go template for each plugin, or 'json'")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "only print plugin IDs")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate IDs and descriptions")
	f.StringArrayVarP(&o.filters, "filter", "f", nil, "filter like docker plugin ls: enabled=true|false, capability=volumedriver|networkdriver|...")
	return cmd
}

func printLs(g *globalOptions, o *lsOptions, rows store.Rows) error {
	switch {
	case g.outputJSON():
		return output.JSON(g.stdout, rows)
	case o.quiet:
		return output.Each(g.stdout, "ls", "{{.ID}}", rows)
	case o.format != "":
		return output.Lines(g.stdout, "ls", o.format, rows)
	}
	return rows.WriteTable(g.stdout, o.noTrunc)
}
