package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
	"github.com/dplug/dplug/validate"
)

// openSource resolves a command's plugin argument (plugin dir, OCI layout,
// installed plugin, registry reference: opts say which) through package
// source, so that every command checks a plugin the same way and answers a
// missing or wrong argument with the same line and exit code (2, a usage
// error; an unknown plugin name is 1, like docker). The config's warnings
// are logged.
func openSource(ctx context.Context, g *globalOptions, arg string, opts ...source.Option) (*source.Source, error) {
	opts = append([]source.Option{source.WithStore(func() (*store.Store, error) { return openStore(g) }), source.WithLogger(g.log)}, opts...)
	s, err := source.Open(ctx, arg, opts...)
	if nf := (*source.NotFoundError)(nil); errors.As(err, &nf) {
		return nil, usageError(err)
	}
	return s, err
}

// fetchFlags are the flags of the commands that read a plugin from a
// registry or an OCI layout (install, load, pull): the registry group,
// --max-size and --platform.
type fetchFlags struct {
	registryFlags
	maxSize  output.Size // 512MiB, 4GiB, 8G, 1000000
	platform string
}

func (o *fetchFlags) add(f *pflag.FlagSet, platformUsage string) {
	o.registryFlags.add(f)
	f.Var(&o.maxSize, "max-size", "the most a plugin's layers may expand to, like 8GiB (default 4GiB, and beyond 512MiB at most 100× "+
		"the compressed layer; giving it lifts that ratio check)")
	addPlatform(f, &o.platform, platformUsage)
}

// packOptions checks the flags and turns them into pack options, progress
// shown on prog.
func (o *fetchFlags) packOptions(f *pflag.FlagSet, g *globalOptions, prog *output.Progress) ([]pack.Option, error) {
	opts, err := o.registryFlags.options(f)
	if err != nil {
		return nil, err
	}
	return append(opts, pack.WithMaxSize(int64(o.maxSize)), pack.WithPlatform(o.platform),
		pack.WithLogger(g.log), pack.WithProgress(prog.Update)), nil
}

// open resolves arg like openSource, reading a registry or a layout with
// the flags' pack options (progress on prog) and checking the config with
// the KEY=VALUE settings the plugin will get.
func (o *fetchFlags) open(cmd *cobra.Command, g *globalOptions, arg string, prog *output.Progress, settings []string, opts ...source.Option) (*source.Source, error) {
	popts, err := o.packOptions(cmd.Flags(), g, prog)
	if err != nil {
		return nil, err
	}
	return openSource(cmd.Context(), g, arg, append(opts, source.WithPack(popts...), source.WithValidate(validate.WithSettings(settings...)))...)
}
