package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
	"github.com/dplug/dplug/validate"
)

type loadOptions struct {
	registryFlags
	alias    string
	host     string
	force    bool
	disable  bool
	grantAll bool
	maxSize  sizeFlag
	platform string
}

func newLoadCmd(g *globalOptions) *cobra.Command {
	var o loadOptions
	cmd := &cobra.Command{
		Use:   "load NAME|DIR|REF [KEY=VALUE...]",
		Short: "Create and enable a plugin in a running Docker Engine",
		Long: `Load creates the plugin in a running Docker Engine through its API (what
'docker plugin create' + 'set' + 'enable' do), streaming config.json and
the rootfs straight from the source: an installed plugin's NAME, a plugin
DIR (config.json + rootfs/), an OCI layout or a registry REF. No root, no
Linux and no dplug store are needed: it is how a plugin built on a laptop
with Docker Desktop, or on a CI runner, gets tried for real.

The engine is found like the docker CLI finds it: --host, DOCKER_HOST,
DOCKER_CONTEXT, the current context in ~/.docker/config.json, then the
default socket; ssh:// hosts work.

A plugin of the same name is replaced: the settings its user changed are
carried over (those the new config no longer lets be set are reported),
and KEY=VALUE arguments are applied after them. Everything that can be
checked without the engine is checked first. The engine has no rename and
cannot export a plugin, so the old plugin is then disabled — refused with
the engine's reason while volumes, networks or containers use it, unless
--force — and removed before the new one is created. If create, set or
enable fails after that, the error says what the engine now holds (for a
failed enable: the new plugin, disabled; its log lines are in the
engine's log).

A plugin from a registry or a layout shows the privileges it requests and
asks y/N first (--grant-all-permissions for scripts), as 'docker plugin
install' does; a plugin dir or an installed plugin is your own and is
loaded like 'docker plugin create' loads it.

The plugin's name in the engine is printed on stdout (what was done, as
JSON, with --output json).`,
		Example: `  dplug load ./myplugin --alias me/myplugin
  dplug load me/myplugin:dev DEBUG=1
  DOCKER_CONTEXT=desktop-linux dplug load 127.0.0.1:5000/me/myplugin:1.0 --grant-all-permissions`,
		Args: withUsage(cobra.MinimumNArgs(1)),
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
	o.registryFlags.add(f)
	addMaxSize(f, &o.maxSize)
	f.StringVar(&o.platform, "platform", "", "plugin to pick from a multi-platform index (os/arch[/variant]); default: the engine host's")
	return cmd
}

func runLoad(cmd *cobra.Command, g *globalOptions, o *loadOptions, arg string, settings []string) error {
	ctx := cmd.Context()
	for _, s := range settings {
		if !strings.Contains(s, "=") {
			return usageError(fmt.Errorf("setting %q: want KEY=VALUE", s))
		}
	}
	netOpts, err := o.registryFlags.options(cmd.Flags())
	if err != nil {
		return err
	}
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	src, err := openSource(ctx, g, arg,
		source.WithPack(append(netOpts, pack.WithMaxSize(o.maxSize.n), pack.WithPlatform(o.platform),
			pack.WithLogger(g.log), pack.WithProgress(prog.Update))...),
		source.WithValidate(validate.WithSettings(settings...)))
	if err != nil {
		return err
	}
	name := o.alias
	if name == "" {
		name = src.Name
	}
	if _, err := engine.Name(name); err != nil {
		return usageError(fmt.Errorf("%w: name it with --alias NAME", err))
	}
	if src.Kind&(source.Registry|source.Layout) != 0 {
		if err := grant(g, o.grantAll, arg, store.Privileges(src.Config)); err != nil {
			return err
		}
	}
	eng, err := engine.Connect(ctx, engine.WithHost(o.host))
	if err != nil {
		return err
	}
	defer eng.Close()
	lopts := []engine.LoadOption{engine.WithSettings(settings...), engine.WithForce(o.force)}
	if o.disable {
		lopts = append(lopts, engine.WithoutEnable())
	}
	res, err := eng.Load(ctx, src, name, lopts...)
	if err != nil {
		return err
	}
	prog.Succeeded()
	if len(res.Carried) > 0 {
		fmt.Fprintf(g.stderr, "kept the replaced plugin's settings: %s\n", strings.Join(res.Carried, " "))
	}
	if len(res.Dropped) > 0 {
		fmt.Fprintf(g.stderr, "warning: dropped settings the new config no longer lets be set: %s\n", strings.Join(res.Dropped, " "))
	}
	if g.outputJSON() {
		return output.JSON(g.stdout, res)
	}
	fmt.Fprintln(g.stdout, res.Name)
	return nil
}
