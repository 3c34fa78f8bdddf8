package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
)

// installOptions are the flags of `dplug install`.
type installOptions struct {
	fetchFlags
	alias             string
	disable, grantAll bool
}

func newInstallCmd(g *globalOptions) *cobra.Command {
	var o installOptions
	cmd := &cobra.Command{
		Use:   "install SOURCE [KEY=VALUE...]",
		Short: "Install a plugin into the local store from a dir, an OCI layout or a registry",
		Args:  withUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInstall(cmd, g, &o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.alias, "alias", "", "local name for the plugin")
	f.BoolVar(&o.disable, "disable", false, "do not enable the plugin on install")
	f.BoolVar(&o.grantAll, "grant-all-permissions", false, "grant all permissions necessary to run the plugin")
	o.fetchFlags.add(f, "plugin to pick from a multi-platform index (os/arch[/variant]); default: this host")
	return cmd
}

func runInstall(cmd *cobra.Command, g *globalOptions, o *installOptions, arg string, settings []string) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("dplug install needs Linux, where plugins run (this is %s); 'dplug pull REF DIR' fetches a plugin dir anywhere", runtime.GOOS)
	}
	if err := dest.CheckSettings(settings); err != nil {
		return err
	}
	s, err := openStore(g)
	if err != nil {
		return err
	}
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	src, err := o.open(cmd, g, arg, prog, settings, source.WithKinds(source.Dir|source.Layout|source.Registry))
	if err != nil {
		return err
	}
	var p *store.Plugin
	_, err = (&dest.Store{Opened: s, Installed: func(i *store.Plugin) { p = i },
		Install: &store.InstallOptions{Alias: o.alias, Disabled: o.disable, Settings: settings},
		Grant:   func(name string, privs []store.Privilege) error { return grant(g, o.grantAll, name, privs) },
	}).Deliver(cmd.Context(), src)
	if err != nil {
		return err
	}
	prog.Succeeded()
	warnArch(g, p.Rootfs(), &p.Config, o.platform, "it is installed, but enabling or running it will fail with \"exec format error\" (dockerd too would install it and fail at enable)")
	return g.printResult(p.Inspect(), p.FullName(), false)
}
