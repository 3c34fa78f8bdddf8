package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dplug/dplug/plugin"
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

// lsRow is what a `dplug ls --format` template sees.
type lsRow struct {
	ID              string
	Name            string
	Description     string
	Enabled         bool
	PluginReference string
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
			keep, err := lsFilter(o.filters)
			if err != nil {
				return usageError(err)
			}
			rows := make([]lsRow, 0, len(list))
			for _, p := range list {
				if !keep(p) {
					continue
				}
				r := lsRow{ID: p.ID, Name: p.FullName(), Description: p.Config.Description, Enabled: p.Enabled, PluginReference: p.PluginReference}
				if !o.noTrunc {
					r.ID = p.ShortID()
				}
				rows = append(rows, r)
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

// lsFilter builds the predicate for docker plugin ls's --filter values:
// enabled=BOOL and capability=NAME (an interface type's capability, e.g.
// volumedriver); several values of one key match any, keys combine with AND.
func lsFilter(filters []string) (func(*store.Plugin) bool, error) {
	want := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok || (k != "enabled" && k != "capability") {
			return nil, fmt.Errorf("invalid filter %q: use enabled=true|false or capability=NAME", f)
		}
		if k == "enabled" && v != "true" && v != "false" {
			return nil, fmt.Errorf("invalid filter %q: enabled takes true or false", f)
		}
		want[k] = append(want[k], v)
	}
	return func(p *store.Plugin) bool {
		if vs, ok := want["enabled"]; ok && !slices.Contains(vs, strconv.FormatBool(p.Enabled)) {
			return false
		}
		if vs, ok := want["capability"]; ok {
			match := false
			for _, typ := range p.Config.Interface.Types {
				if it, err := plugin.ParseInterfaceType(typ); err == nil && it.Prefix == "docker" && slices.Contains(vs, strings.ToLower(it.Capability)) {
					match = true
				}
			}
			if !match {
				return false
			}
		}
		return true
	}, nil
}

func printLs(g *globalOptions, o *lsOptions, rows []lsRow) error {
	switch {
	case g.outputJSON():
		return writeJSON(g.stdout, rows)
	case o.quiet:
		for _, r := range rows {
			fmt.Fprintln(g.stdout, r.ID)
		}
		return nil
	case o.format == "json":
		enc := json.NewEncoder(g.stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case o.format != "":
		tmpl, err := parseFormat("ls", o.format)
		if err != nil {
			return usageError(fmt.Errorf("parsing --format: %w", err))
		}
		for _, r := range rows {
			if err := executeFormat(g.stdout, tmpl, r); err != nil {
				return fmt.Errorf("executing --format: %w", err)
			}
			fmt.Fprintln(g.stdout)
		}
		return nil
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
