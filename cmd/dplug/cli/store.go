package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
	"github.com/dplug/dplug/validate"
)

// openStore opens the plugin store under --root. A store that cannot be
// opened is an IO error (exit 2) that names the setting to check.
func openStore(g *globalOptions) (*store.Store, error) {
	s, err := store.Open(g.Root, store.WithLogger(g.log))
	if err != nil {
		return nil, usageError(fmt.Errorf("%w (check --root or DPLUG_ROOT)", err))
	}
	return s, nil
}

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
	prog := newProgress(g.stderr)
	defer prog.done()
	netOpts, err := o.registryFlags.options(cmd.Flags())
	if err != nil {
		return err
	}
	popts := append(netOpts,
		pack.WithMaxSize(o.maxSize.n),
		pack.WithPlatform(o.platform),
		pack.WithLogger(g.log),
		pack.WithProgress(prog.update),
	)
	src, err := openSource(ctx, g, srcArg,
		source.WithKinds(source.Dir|source.Layout|source.Registry),
		source.WithPack(popts...),
		source.WithValidate(validate.WithSettings(settings...)))
	if err != nil {
		return err
	}
	opts := store.InstallOptions{Alias: o.alias, Disabled: o.disable, Settings: settings,
		Name: src.Name, Reference: src.Reference}
	if o.alias == "" && opts.Reference == "" {
		if _, _, err := store.ParseName(opts.Name); err != nil {
			return usageError(fmt.Errorf("%s does not make a valid plugin name (%w): name it with --alias NAME", srcArg, err))
		}
	}
	// Like docker, the prompt names the remote reference; for local
	// sources, the name the plugin gets.
	shown := opts.Name
	switch {
	case opts.Reference != "":
		shown = srcArg
	case o.alias != "":
		shown = o.alias
	}
	opts.Grant = func(privs []store.Privilege) error {
		return grant(g, o.grantAll, shown, privs)
	}
	p, err := s.Install(ctx, src, opts)
	if errors.Is(err, store.ErrExists) {
		taken := opts.Name
		if o.alias != "" {
			taken = o.alias
		}
		if n, t, perr := store.ParseName(taken); perr == nil {
			taken = n + ":" + t
		}
		return fmt.Errorf("%w: remove it first (`dplug rm %s`) or install under another name with --alias NAME", err, taken)
	}
	if err != nil {
		return err
	}
	prog.succeeded()
	if w := archWarning(p.Rootfs(), &p.Config, o.platform, "it is installed, but enabling or running it will fail with \"exec format error\" (dockerd too would install it and fail at enable)"); w != "" {
		fmt.Fprintln(g.stderr, w)
	}
	if g.outputJSON() {
		return writeJSON(g.stdout, inspectView(p))
	}
	fmt.Fprintln(g.stdout, p.FullName())
	return nil
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

// inspect is the JSON form docker plugin inspect prints.
type inspect struct {
	ID              string          `json:"Id"`
	Name            string          `json:"Name"`
	Enabled         bool            `json:"Enabled"`
	Settings        plugin.Settings `json:"Settings"`
	PluginReference string          `json:"PluginReference"`
	Config          plugin.Config   `json:"Config"`
}

func inspectView(p *store.Plugin) inspect {
	st := p.Settings
	// dockerd initialises settings with empty, not null, lists.
	if st.Args == nil {
		st.Args = []string{}
	}
	if st.Env == nil {
		st.Env = []string{}
	}
	if st.Mounts == nil {
		st.Mounts = []plugin.Mount{}
	}
	if st.Devices == nil {
		st.Devices = []plugin.Device{}
	}
	return inspect{ID: p.ID, Name: p.FullName(), Enabled: p.Enabled, Settings: st,
		PluginReference: p.PluginReference, Config: p.Config}
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

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
		Long: `Ls lists the plugins in the local store like 'docker plugin ls'.
--format takes a Go template over .ID .Name .Description .Enabled
.PluginReference ('json' prints one JSON object per line); --output json
prints a JSON array.`,
		Example: `  dplug ls
  dplug ls --format '{{.Name}} {{.Enabled}}'
  dplug ls -q`,
		Args: withUsage(cobra.NoArgs),
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

func newInspectCmd(g *globalOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect NAME...",
		Short: "Show installed plugins as JSON, like docker plugin inspect",
		Long: `Inspect prints a JSON array with one object per plugin (Id, Name,
Enabled, Settings, PluginReference, Config), the shape 'docker plugin
inspect' prints. NAME is a name, name:tag, ID or unique ID prefix.
--format applies a Go template to each object instead.`,
		Example: `  dplug inspect myplugin
  dplug inspect --format '{{.Settings.Env}}' myplugin`,
		Args: withUsage(cobra.MinimumNArgs(1)),
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

func newRmCmd(g *globalOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove installed plugins",
		Long: `Rm removes plugins from the local store. An enabled plugin is only
removed with --force, as with 'docker plugin rm'. A plugin that is running
('dplug run --detach') is only removed with --force, which stops it first.
Each removed name is printed on stdout.`,
		Args: withUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			var errs []error
			for _, a := range args {
				if err := stopBeforeRemove(cmd.Context(), g, s, a, force); err != nil {
					errs = append(errs, err)
					continue
				}
				if err := s.Remove(a, force); err != nil {
					if errors.Is(err, store.ErrDamaged) {
						return err // one line for the whole store, not one per name
					}
					if errors.Is(err, store.ErrEnabled) {
						err = fmt.Errorf("%w (disable it first, or use --force)", err)
					}
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(g.stdout, a)
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove even if enabled")
	return cmd
}

func newEnableCmd(g *globalOptions) *cobra.Command {
	return newFlagCmd(g, "enable", "Mark an installed plugin enabled", (*store.Store).Enable)
}

func newDisableCmd(g *globalOptions) *cobra.Command {
	return newFlagCmd(g, "disable", "Mark an installed plugin disabled (needed before set)", (*store.Store).Disable)
}

func newFlagCmd(g *globalOptions, use, short string, fn func(*store.Store, string) (*store.Plugin, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Long: short + `. There is no daemon: this only changes the store's flag
('dplug run' starts a plugin). The name is printed on stdout.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			if _, err := fn(s, args[0]); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, args[0])
			return nil
		},
	}
}

func newSetCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME KEY=VALUE...",
		Short: "Change a plugin's settable env, args, mount sources or device paths",
		Long: `Set changes settings of a disabled plugin with docker plugin set's syntax
and rules: <name>[.<field>][=<value>], where name is an env variable, a
mount, a device or the args, and only the fields the config marks settable
(env/args value, mounts source, devices path) may change.`,
		Example: `  dplug set myplugin DEBUG=1
  dplug set myplugin data.source=/srv/data args="-v --flag"`,
		Args: withUsage(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			p, err := s.Get(args[0])
			if err != nil {
				return err
			}
			if p.Enabled {
				return fmt.Errorf("plugin %s is enabled: cannot set on an active plugin, disable plugin before setting (`dplug disable %s`)", p.FullName(), p.FullName())
			}
			if _, err = s.Set(args[0], args[1:]); err != nil {
				names := settableNames(&p.Config)
				if len(names) == 0 {
					return fmt.Errorf("plugin %s: %w (nothing in its config.json is settable)", p.FullName(), err)
				}
				return fmt.Errorf("plugin %s: %w (settable: %s)", p.FullName(), err, strings.Join(names, ", "))
			}
			return nil
		},
	}
}

// settableNames lists what `dplug set` may change, as its KEY=VALUE
// arguments spell it.
func settableNames(c *plugin.Config) []string {
	var names []string
	for _, e := range c.Env {
		if slices.Contains(e.Settable, "value") {
			names = append(names, e.Name)
		}
	}
	if slices.Contains(c.Args.Settable, "value") {
		names = append(names, c.Args.Name)
	}
	for _, m := range c.Mounts {
		if slices.Contains(m.Settable, "source") {
			names = append(names, m.Name+".source")
		}
	}
	for _, d := range c.Linux.Devices {
		if slices.Contains(d.Settable, "path") {
			names = append(names, d.Name+".path")
		}
	}
	return names
}

func newExportCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export NAME DIR",
		Short: "Write an installed plugin as a dir 'docker plugin create' accepts",
		Long: `Export writes DIR/config.json (the installed config) and DIR/rootfs/, so
that 'docker plugin create NAME DIR' recreates the plugin on a Docker
host. DIR must not exist or be empty. DIR is printed on stdout.`,
		Args: withUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			if _, err := s.Get(args[0]); err != nil {
				return err
			}
			if err := checkEmptyDir(args[1]); err != nil {
				return usageError(fmt.Errorf("exporting %s: %w", args[0], err))
			}
			if err := s.Export(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, args[1])
			return nil
		},
	}
}

func newDoctorCmd(g *globalOptions) *cobra.Command {
	var fix bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the plugin store and clean up after interrupted commands",
		Long: `Doctor checks the plugin store under its lock. It always removes what
killed dplug processes left in the store's tmp/ dir. It reports:

  - a damaged inventory (plugins.json): --fix rebuilds it from the plugin
    dirs (each holds config.json and plugin-settings.json) and from
    plugins.json.bak, the previous generation, for names and enabled
    state; a plugin the backup does not know is named recovered-<ID> and
    left disabled. The damaged file is kept in lost+found.
  - plugin dirs the inventory does not list (orphans): --fix deletes those
    of plugins the last change removed (an interrupted rm) and moves every
    other one to ROOT/plugins/lost+found/ — doctor never deletes a dir it
    cannot account for; look there and delete what you do not need.
  - inventory entries whose dir is missing (--fix drops them) and stale
    plugin-settings.json files (--fix rewrites them).
  - runs nobody will stop (a foreground 'dplug run' that was killed, a
    detached plugin that exited): --fix stops them and removes their
    mounts, cgroups and run dirs.

On a read-only store doctor only reports. Exit status 1 when problems
remain.`,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			r, err := s.Doctor(fix)
			if r == nil {
				return err
			}
			runs, rerr := doctorRuns(cmd.Context(), g, fix)
			if rerr != nil {
				return rerr
			}
			if g.outputJSON() {
				if jerr := writeJSON(g.stdout, struct {
					*store.Report
					Runs []run.Leftover `json:"Runs"`
				}{r, runs}); jerr != nil {
					return jerr
				}
			} else {
				printDoctor(g, s, r, fix)
				printRunLeftovers(g.stdout, runs)
				if len(runs) == 0 && storeClean(r) {
					fmt.Fprintf(g.stderr, "store %s is consistent\n", g.Root)
				}
			}
			if err != nil {
				return err
			}
			problems := len(r.Orphans) + len(r.Missing) + len(r.Resynced) + len(runs)
			if r.Damaged != "" {
				problems++
			}
			if !fix && problems > 0 {
				return &exitError{Code: ExitFailure, Err: errors.New("store has problems; run 'dplug doctor --fix' to repair them")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&fix, "fix", false, "rebuild a damaged inventory, delete orphans of removed plugins, move other unlisted dirs to lost+found, drop entries with no dir, rewrite stale settings, stop leftover runs")
	return cmd
}

// storeClean reports whether doctor found nothing to say about the store.
func storeClean(r *store.Report) bool {
	return len(r.Removed)+len(r.Leftovers)+len(r.Orphans)+len(r.Missing)+len(r.Resynced)+len(r.MovedAside) == 0 && r.Damaged == ""
}

// printDoctor prints a doctor report, one line per finding.
func printDoctor(g *globalOptions, s *store.Store, r *store.Report, fix bool) {
	w := g.stdout
	for _, p := range r.Removed {
		fmt.Fprintf(w, "removed leftover %s\n", p)
	}
	for _, p := range r.Leftovers {
		fmt.Fprintf(w, "found leftover %s (store is read-only: not removed)\n", p)
	}
	if r.Damaged != "" {
		fmt.Fprintf(w, "damaged inventory %s: %s\n", filepath.Join(s.Dir(), "plugins.json"), r.Damaged)
		verb := map[bool]string{false: "found", true: "recovered"}[fix]
		for _, p := range r.Recovered {
			state := "disabled"
			if p.Enabled {
				state = "enabled"
			}
			from := "name and state from plugins.json.bak"
			if p.From != "plugins.json.bak" {
				from = "not in plugins.json.bak: name derived from the ID"
			}
			note := ""
			if p.Note != "" {
				note = "; " + p.Note
			}
			fmt.Fprintf(w, "%s plugin %s (%s, %s; %s%s)\n", verb, p.Name, p.ID[:12], state, from, note)
		}
	}
	for _, p := range r.Deleted {
		fmt.Fprintf(w, "%s orphan dir %s (its plugin was removed by an interrupted command)\n", map[bool]string{false: "found", true: "deleted"}[fix], p)
	}
	for _, m := range r.MovedAside {
		if fix {
			fmt.Fprintf(w, "moved %s to %s (%s)\n", m.From, m.To, m.Reason)
		} else {
			fmt.Fprintf(w, "found %s (%s): --fix moves it to %s\n", m.From, m.Reason, m.To)
		}
	}
	verb := map[bool]string{false: "found", true: "removed"}[fix]
	for _, p := range r.Missing {
		fmt.Fprintf(w, "%s inventory entry with no dir: %s\n", verb, p)
	}
	for _, p := range r.Resynced {
		fmt.Fprintf(w, "%s stale settings file %s\n", map[bool]string{false: "found", true: "rewrote"}[fix], p)
	}
}

// stopBeforeRemove refuses to remove a plugin that is running (its rootfs is
// mounted by the container) unless force is set, in which case it stops the
// plugin and cleans up its run first, as dockerd disables before `rm -f`.
func stopBeforeRemove(ctx context.Context, g *globalOptions, s *store.Store, name string, force bool) error {
	p, err := s.Get(name)
	if err != nil {
		return nil // Remove reports it
	}
	inst, err := run.Load(p.ID, run.WithRunRoot(runRoot(g)), run.WithLogger(g.log))
	if err != nil {
		return nil // no run recorded (or none possible on this OS): nothing to stop
	}
	if inst.Running() && !force {
		return fmt.Errorf("plugin %s is running: `dplug stop %s` first, or use --force", p.FullName(), p.FullName())
	}
	if err := inst.Stop(ctx, run.DefaultGrace); err != nil {
		return fmt.Errorf("stopping %s before removing it: %w", p.FullName(), err)
	}
	return nil
}
