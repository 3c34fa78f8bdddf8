package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

// pushOptions are the flags of `dplug push`.
type pushOptions struct {
	registryFlags
	preserveTimes bool
	level         int
	ociLayout     string
	mountFrom     []string
	platform      string
}

func newPushCmd(g *globalOptions) *cobra.Command {
	var o pushOptions
	cmd := &cobra.Command{
		Use:   "push DIR|NAME [REF]",
		Short: "Publish a plugin to a registry (or an OCI layout); docker plugin install REF works",
		Args:  withUsage(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPush(cmd, g, &o, args[0], append(args, "")[1])
		},
	}
	f := cmd.Flags()
	o.registryFlags.add(f)
	f.BoolVar(&o.preserveTimes, "preserve-times", false, "keep file mtimes and owners in the layer (not reproducible)")
	f.IntVar(&o.level, "compression-level", 6, "gzip level of the rootfs layer, 0 (none) to 9 (smallest)")
	f.StringVar(&o.ociLayout, "oci-layout", "", "also write the artifact to the OCI image layout `DIR`")
	f.StringArrayVar(&o.mountFrom, "mount-from", nil, "`REF` on the same registry that may hold the layers already: mount instead of upload (repeatable)")
	addPlatform(f, &o.platform, "the platform the plugin is for, os/arch[/variant]: its entrypoint must be built for it, and it picks from a multi-platform OCI layout (default: what the layout records, else this host's)")
	return cmd
}

func runPush(cmd *cobra.Command, g *globalOptions, o *pushOptions, arg, ref string) error {
	netOpts, err := o.registryFlags.options(cmd.Flags())
	if err != nil {
		return err
	}
	// What its author wrote is published: a plugin dir is checked with the
	// author's view (SPEC §3); a layout or an installed plugin is published
	// as it is, checked like any plugin consumed.
	src, err := openSource(cmd.Context(), g, arg, source.WithKinds(source.Dir|source.Layout|source.Installed),
		source.WithAuthor(source.Dir), source.WithPack(append(netOpts, pack.WithPlatform(o.platform))...))
	if err != nil {
		return err
	}
	if o.level < 0 || o.level > 9 {
		return usageError(fmt.Errorf("--compression-level %d out of range: use 0 (none) to 9 (smallest)", o.level))
	}
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	p := dest.Publish{Ref: ref, OCILayout: o.ociLayout, Platform: o.platform, Root: g.Root, Options: append(netOpts,
		pack.WithPreserveTimes(o.preserveTimes), pack.WithCompressionLevel(o.level), pack.WithLogger(g.log),
		pack.WithMountFrom(o.mountFrom...), pack.WithValidation(false))} // source.Open validated
	res, err := p.Push(cmd.Context(), src, dest.PackProgress(prog.Update), func(digest string) { prog.Line("wrote %s to OCI layout %s", digest, o.ociLayout) })
	if err != nil {
		return err
	}
	prog.Succeeded()
	return g.printResult(res, res.String(), true)
}
