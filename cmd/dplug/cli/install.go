package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
	"github.com/dplug/dplug/validate"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// installOptions are the flags of `dplug install`.
type installOptions struct {
	alias    string
	disable  bool
	grantAll bool
	platform string
	maxSize  sizeFlag
	registryFlags
}

func newInstallCmd(g *globalOptions) *cobra.Command {
	var o installOptions
	cmd := &cobra.Command{
		Use:   "install SOURCE [KEY=VALUE...]",
		Short: "Install a plugin into the local store from a dir, an OCI layout or a registry",
		Long: `Install adds a plugin to the local store (--root). SOURCE is:

  a plugin dir      a directory with config.json and rootfs/ (what 'docker
                    plugin create' takes); named after the dir unless --alias
  an OCI layout     a directory with an oci-layout file (dplug push
                    --oci-layout); named after the dir unless --alias
  a registry ref    [registry/]repo/name[:tag], pulled like 'docker plugin
                    install' (loopback registries use plain HTTP)

Before anything is written, the privileges the plugin requests (host
network, capabilities, mounts, devices, ...) are shown and you are asked to
grant them, as with 'docker plugin install'. Scripts pass
--grant-all-permissions; without a terminal and without that flag, install
refuses. KEY=VALUE arguments are settings applied at install (see 'dplug
set'). Every layer is extracted with path-traversal, link-escape, device
and size checks; a failed install leaves nothing behind.

The installed plugin's name is printed on stdout (its inspect object with
--output json).`,
		Example: `  dplug install ./myplugin --alias me/myplugin:dev
  dplug install 127.0.0.1:5000/me/myplugin:1.0 --grant-all-permissions DEBUG=1
  dplug install ./layout --alias myplugin --disable`,
		Args: withUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInstall(cmd, g, &o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.alias, "alias", "", "local name for the plugin")
	f.BoolVar(&o.disable, "disable", false, "do not enable the plugin on install")
	f.BoolVar(&o.grantAll, "grant-all-permissions", false, "grant all permissions necessary to run the plugin")
	o.registryFlags.add(f)
	addMaxSize(f, &o.maxSize)
	addPlatform(f, &o.platform, "plugin to pick from a multi-platform index (os/arch[/variant]); default: this host")
	return cmd
}

func runInstall(cmd *cobra.Command, g *globalOptions, o *installOptions, srcArg string, settings []string) error {
	ctx := cmd.Context()
	if runtime.GOOS != "linux" {
		return fmt.Errorf("dplug install needs Linux, where plugins run (this is %s); 'dplug pull REF DIR' fetches a plugin dir anywhere", runtime.GOOS)
	}
	for _, s := range settings {
		if !strings.Contains(s, "=") {
			return usageError(fmt.Errorf("setting %q: want KEY=VALUE", s))
		}
	}
	s, err := openStore(g)
	if err != nil {
		return err
	}
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	src, err := o.source(cmd, g, srcArg, settings, prog)
	if err != nil {
		return err
	}
	opts, err := o.storeOptions(g, src, srcArg, settings)
	if err != nil {
		return err
	}
	p, err := s.Install(ctx, src, opts)
	if err != nil {
		return installError(err, opts.Name, o.alias)
	}
	prog.Succeeded()
	if w := archWarning(p.Rootfs(), &p.Config, o.platform, "it is installed, but enabling or running it will fail with \"exec format error\" (dockerd too would install it and fail at enable)"); w != "" {
		fmt.Fprintln(g.stderr, w)
	}
	if g.outputJSON() {
		return output.JSON(g.stdout, p.Inspect())
	}
	fmt.Fprintln(g.stdout, p.FullName())
	return nil
}

// source resolves install's argument: a plugin dir, a layout or a
// registry reference, checked with the settings the plugin will get.
func (o *installOptions) source(cmd *cobra.Command, g *globalOptions, arg string, settings []string, prog *output.Progress) (*source.Source, error) {
	netOpts, err := o.registryFlags.options(cmd.Flags())
	if err != nil {
		return nil, err
	}
	popts := append(netOpts,
		pack.WithMaxSize(o.maxSize.n),
		pack.WithPlatform(o.platform),
		pack.WithLogger(g.log),
		pack.WithProgress(prog.Update),
	)
	return openSource(cmd.Context(), g, arg,
		source.WithKinds(source.Dir|source.Layout|source.Registry),
		source.WithPack(popts...),
		source.WithValidate(validate.WithSettings(settings...)))
}

// storeOptions are the store's options for installing src: its name (or
// --alias), settings, and the privilege prompt.
func (o *installOptions) storeOptions(g *globalOptions, src *source.Source, arg string, settings []string) (store.InstallOptions, error) {
	opts := store.InstallOptions{Alias: o.alias, Disabled: o.disable, Settings: settings,
		Name: src.Name, Reference: src.Reference}
	if o.alias == "" && opts.Reference == "" {
		if _, _, err := store.ParseName(opts.Name); err != nil {
			return opts, usageError(fmt.Errorf("%s does not make a valid plugin name (%w): name it with --alias NAME", arg, err))
		}
	}
	// Like docker, the prompt names the remote reference; for local
	// sources, the name the plugin gets.
	shown := opts.Name
	switch {
	case opts.Reference != "":
		shown = arg
	case o.alias != "":
		shown = o.alias
	}
	opts.Grant = func(privs []store.Privilege) error {
		return grant(g, o.grantAll, shown, privs)
	}
	return opts, nil
}

// installError says what to do when the name is taken.
func installError(err error, name, alias string) error {
	if !errors.Is(err, store.ErrExists) {
		return err
	}
	taken := name
	if alias != "" {
		taken = alias
	}
	if n, t, perr := store.ParseName(taken); perr == nil {
		taken = n + ":" + t
	}
	return fmt.Errorf("%w: remove it first (`dplug rm %s`) or install under another name with --alias NAME", err, taken)
}

// grant shows privileges like docker plugin install and asks y/N on a
// terminal.
func grant(g *globalOptions, all bool, name string, privs []store.Privilege) error {
	if len(privs) == 0 || all {
		return nil
	}
	f, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		var list []string
		for _, p := range privs {
			list = append(list, p.Name)
		}
		return fmt.Errorf("plugin %q requests privileges (%s) and there is no terminal to ask: "+
			"review them with 'dplug install' on a terminal, or pass --grant-all-permissions: %w",
			name, strings.Join(list, ", "), store.ErrNotGranted)
	}
	fmt.Fprintf(g.stderr, "Plugin %q is requesting the following privileges:\n", name)
	for _, p := range privs {
		fmt.Fprintf(g.stderr, " - %s: %v\n", p.Name, p.Value)
	}
	fmt.Fprint(g.stderr, "Do you grant the above permissions? [y/N] ")
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("plugin %q: %w", name, store.ErrNotGranted)
}
