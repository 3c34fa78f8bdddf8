package cli

import (
	"github.com/spf13/cobra"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/pack"
)

// buildOptions are the flags of `dplug build`, named like docker buildx's.
type buildOptions struct {
	build.Settings
	out dest.Outputs
}

func newBuildCmd(g *globalOptions) *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build [CONTEXT]",
		Short: "Build a plugin's rootfs from a Dockerfile with BuildKit",
		Args:  withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd, g, &o, append(args, ".")[0])
		},
	}
	s, f := &o.Settings, cmd.Flags()
	f.StringVarP(&s.File, "file", "f", "", "Dockerfile `PATH` (default CONTEXT/Dockerfile)")
	f.StringArrayVarP(&o.out.Tags, "tag", "t", nil, "plugin `NAME[:TAG]` in the local store")
	f.StringArrayVar(&s.BuildArgs, "build-arg", nil, "build-time variable `KEY=VALUE` (KEY alone takes it from the environment)")
	f.StringVar(&s.Target, "target", "", "build this `STAGE` instead of the last one")
	f.StringSliceVar(&s.Platforms, "platform", nil, "target `OS/ARCH` (default: the builder's)")
	f.StringArrayVar(&s.Contexts, "build-context", nil, "named context `NAME=VALUE` (directory, oci-layout://PATH[:TAG][@DIGEST], docker-image://REF, URL)")
	f.StringArrayVar(&s.Secrets, "secret", nil, "build secret `id=ID,src=PATH|env=VAR`")
	f.StringArrayVar(&s.SSH, "ssh", nil, "SSH agent or keys to forward: `default|ID=PATH[,PATH]`")
	f.StringArrayVar(&s.CacheFrom, "cache-from", nil, "import build cache (`type=registry,ref=REF` | type=local,src=DIR)")
	f.StringArrayVar(&s.CacheTo, "cache-to", nil, "export build cache (`type=registry,ref=REF` | type=local,dest=DIR)")
	f.BoolVar(&s.NoCache, "no-cache", false, "do not use the build cache")
	f.StringVar(&s.Network, "network", "default", "network of RUN steps: `default`, host or none")
	f.DurationVar(&s.ExportTimeout, "export-timeout", build.DefaultExportTimeout, "cancel the build when the rootfs export makes no progress for this `DURATION`")
	f.StringVar(&s.Progress, "progress", "", "progress `MODE`: auto, plain, tty, quiet or rawjson (env BUILDKIT_PROGRESS; default auto)")
	f.StringVar(&s.Config, "config", "", "plugin config `PATH` (default CONTEXT/config.json)")
	f.StringArrayVarP(&o.out.Outputs, "output", "o", nil, "destination `dir=PATH|oci=PATH` (buildx's type=local|oci,dest=PATH too); json prints the result as JSON")
	f.StringVar(&o.out.Push, "push", "", "pack and push the plugin to `REF`")
	addInsecure(f, &o.out.Insecure, "--push")
	f.BoolVar(&o.out.Index, "index", false, "with several --platform and --push, also push a manifest list at REF (for dplug pull; dockerd cannot install from it)")
	f.StringVar(&s.Addr, "addr", "", "BuildKit `ADDRESS` (env BUILDKIT_HOST; default: dplug's own buildkitd)")
	f.StringVar(&s.Builder, "builder", "auto", "`BUILDER`: auto, buildkitd (dplug's own), docker (the Docker Engine's BuildKit) or a BuildKit address")
	f.BoolVar(&o.out.Load, "load", false, "load the plugin into the Docker Engine as -t NAME and enable it, instead of the local store")
	f.StringVar(&s.TLSCA, "tlscacert", "", "CA certificate `FILE` for a tcp:// BuildKit")
	f.StringVar(&s.TLSCert, "tlscert", "", "client certificate `FILE` for a tcp:// BuildKit")
	f.StringVar(&s.TLSKey, "tlskey", "", "client key `FILE` for a tcp:// BuildKit")
	return cmd
}

func runBuild(cmd *cobra.Command, g *globalOptions, o *buildOptions, contextDir string) error {
	o.ProgressOut = g.stderr
	opts, err := o.Options()
	if err != nil {
		return usageError(err)
	}
	// Packing and pushing report into BuildKit's display (build does that).
	out := o.out
	out.Root, out.Platforms, out.Pack = g.Root, len(o.Platforms), []pack.Option{pack.WithLogger(g.log)}
	to, err := out.Dest()
	if err != nil {
		return usageError(err)
	}
	daemonOpts, err := daemonOptions(g)
	if err != nil {
		return usageError(err)
	}
	opts = append(opts, build.WithRoot(g.Root), build.WithBuildkitdOptions(daemonOpts...), build.WithLogger(g.log))
	res, err := build.Run(cmd.Context(), contextDir, to, opts...)
	if err != nil {
		return err
	}
	return res.Write(g.stdout, out.Format() == "json" || g.outputJSON())
}
