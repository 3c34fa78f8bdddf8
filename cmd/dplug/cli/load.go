package cli

import (
	"github.com/spf13/cobra"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/store"
)

type loadOptions struct {
	fetchFlags
	alias, host              string
	force, disable, grantAll bool
}

func newLoadCmd(g *globalOptions) *cobra.Command {
	var o loadOptions
	cmd := &cobra.Command{
		Use:   "load NAME|DIR|REF [KEY=VALUE...]",
		Short: "Create and enable a plugin in a running Docker Engine",
		Args:  withUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLoad(cmd, g, &o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.alias, "alias", "", "name of the plugin in the engine (default: the source's name)")
	f.StringVarP(&o.host, "host", "H", "", "Docker Engine address (default: DOCKER_HOST, then the docker context)")
	f.BoolVar(&o.force, "force", false, "replace a plugin of the same name even while it is in use")
	f.BoolVar(&o.disable, "disable", false, "leave the plugin disabled")
	f.BoolVar(&o.grantAll, "grant-all-permissions", false, "grant all permissions a registry or layout plugin requests")
	o.fetchFlags.add(f, "plugin to pick from a multi-platform index (os/arch[/variant]); default: the engine host's")
	return cmd
}

func runLoad(cmd *cobra.Command, g *globalOptions, o *loadOptions, arg string, settings []string) error {
	if err := dest.CheckSettings(settings); err != nil {
		return err
	}
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	src, err := o.open(cmd, g, arg, prog, settings)
	if err != nil {
		return err
	}
	var res *engine.Loaded
	d := &dest.Engine{Name: o.alias, Host: o.host, Loaded: func(l *engine.Loaded) { res = l },
		Options: []engine.LoadOption{engine.WithSettings(settings...), engine.WithForce(o.force), engine.WithDisabled(o.disable)},
		Grant:   func(name string, privs []store.Privilege) error { return grant(g, o.grantAll, name, privs) }}
	if _, err := d.Deliver(cmd.Context(), src); err != nil {
		return err
	}
	prog.Succeeded()
	res.WriteNotes(g.stderr)
	return g.printResult(res, res.Name, false)
}
