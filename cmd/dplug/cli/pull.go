package cli

import (
	"errors"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/doctor"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

// pullOptions are the flags of `dplug pull`.
type pullOptions struct {
	fetchFlags
	dirMode, ociLayout string
}

func newPullCmd(g *globalOptions) *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull REF DIR",
		Short: "Download a plugin from a registry (or an OCI layout) into a plugin directory",
		Args:  withUsage(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ociLayout == "" && len(args) != 2 {
				return usageError(errors.New("pull needs REF and DIR (or --oci-layout LAYOUT DIR)"))
			}
			if o.ociLayout != "" && len(args) != 1 {
				return usageError(errors.New("with --oci-layout, pull takes only DIR"))
			}
			return runPull(cmd, g, &o, args)
		},
	}
	f := cmd.Flags()
	o.fetchFlags.add(f, "platform to pick from a multi-platform plugin (default: the host's)")
	f.StringVar(&o.ociLayout, "oci-layout", "", "read the plugin from the OCI image layout `LAYOUT`")
	f.StringVar(&o.dirMode, "dir-mode", "0700", "permissions of DIR (octal); any group or other bit strips setuid/setgid bits and file capabilities")
	return cmd
}

func runPull(cmd *cobra.Command, g *globalOptions, o *pullOptions, args []string) error {
	ctx, dir := cmd.Context(), args[len(args)-1]
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	opts, err := o.packOptions(cmd.Flags(), g, prog)
	if err != nil {
		return err
	}
	mode, err := pack.ParseDirMode(o.dirMode)
	if err != nil {
		return usageError(err)
	}
	opts = append(opts, pack.WithDirMode(mode))
	to := &dest.Dir{Path: dir, Options: opts}
	arg, kinds, err := to.PullFrom(args[0], o.ociLayout, pack.WithInsecure(o.insecure))
	if err != nil {
		return err // a *dest.InputError: exit 2
	}
	src, err := openSource(ctx, g, arg, source.WithKinds(kinds), source.WithPack(opts...))
	if err != nil {
		return err
	}
	doctor.RecordPull(g.Root, dir, g.log)
	res, err := to.Pull(ctx, src)
	if err != nil {
		return err
	}
	prog.Succeeded()
	warnArch(g, filepath.Join(dir, "rootfs"), src.Config, o.platform, "docker plugin create would accept it and enable would fail with \"exec format error\"")
	return g.printResult(res, res.Dir, true)
}
