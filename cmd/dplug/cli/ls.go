package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

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
		Long:    help("ls"),
		Example: help("ls.example"),
		Args:    withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			list, err := s.List()
			if err != nil {
				return err
			}
			keep, err := store.Filter(o.filters)
			if err != nil {
				return usageError(err)
			}
			rows := []store.Row{}
			for _, p := range list {
				if keep(p) {
					rows = append(rows, p.Row(o.noTrunc))
				}
			}
			return printLs(g, &o, rows)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "Go template for each plugin, or 'json'")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "only print plugin IDs")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate IDs and descriptions")
	f.StringArrayVarP(&o.filters, "filter", "f", nil, "filter like docker plugin ls: enabled=true|false, capability=volumedriver|networkdriver|...")
	return cmd
}

func printLs(g *globalOptions, o *lsOptions, rows []store.Row) error {
	switch {
	case g.outputJSON():
		return output.JSON(g.stdout, rows)
	case o.quiet:
		return output.Each(g.stdout, "ls", "{{.ID}}", rows)
	case o.format == "json":
		enc := json.NewEncoder(g.stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case o.format != "":
		return output.Each(g.stdout, "ls", o.format, rows)
	}
	tw := tabwriter.NewWriter(g.stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tDESCRIPTION\tENABLED")
	for _, r := range rows {
		desc := r.Description
		if !o.noTrunc && len([]rune(desc)) > 45 {
			desc = string([]rune(desc)[:44]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\n", r.ID, r.Name, desc, r.Enabled)
	}
	return tw.Flush()
}
