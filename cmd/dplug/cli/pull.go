package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
	"github.com/spf13/cobra"
)

// pullOptions are the flags of `dplug pull`.
type pullOptions struct {
	registryFlags
	dirMode   string
	maxSize   sizeFlag
	platform  string
	ociLayout string
}

func newPullCmd(g *globalOptions) *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull REF DIR",
		Short: "Download a plugin from a registry (or an OCI layout) into a plugin directory",
		Long: `Pull downloads the plugin at REF — pushed by dplug or by 'docker plugin
push' — and writes it to DIR as config.json + rootfs/, ready for
'docker plugin create' or 'dplug install'. Every blob is verified against
its digest; DIR appears only when everything checked out, so a failed pull
leaves nothing behind (and the next pull removes what a killed pull left).
DIR must not exist or be empty.

The rootfs is extracted with install's policy: device nodes and FIFOs are
refused (runc creates /dev). DIR is created 0700: setuid/setgid bits and
file capabilities are kept only there, where no other user can reach
them. --dir-mode 0755 opens DIR to others and strips them from every file.

With --oci-layout LAYOUT the plugin is read from an OCI image layout
instead, and REF is omitted. An index (multi-platform plugin) resolves to
the host platform unless --platform says otherwise.`,
		Example: `  dplug pull registry.example.com/me/myplugin:1.0 ./myplugin
  dplug pull --oci-layout ./out ./myplugin`,
		Args: withUsage(cobra.RangeArgs(1, 2)),
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
	o.registryFlags.add(f)
	addPlatform(f, &o.platform, "platform to pick from a multi-platform plugin (default: the host's)")
	f.StringVar(&o.ociLayout, "oci-layout", "", "read the plugin from the OCI image layout `LAYOUT`")
	addMaxSize(f, &o.maxSize)
	f.StringVar(&o.dirMode, "dir-mode", "0700", "permissions of DIR (octal); any group or other bit strips setuid/setgid bits and file capabilities")
	return cmd
}

func runPull(cmd *cobra.Command, g *globalOptions, o *pullOptions, args []string) error {
	ctx := cmd.Context()
	netOpts, err := o.registryFlags.options(cmd.Flags())
	if err != nil {
		return err
	}
	mode, err := strconv.ParseUint(o.dirMode, 8, 32)
	if err != nil || mode > 0o777 || mode&0o700 != 0o700 {
		return usageError(fmt.Errorf("--dir-mode %s: want octal permissions the owner can use, like 0700 or 0755", o.dirMode))
	}
	dir := args[len(args)-1]
	// Check DIR and REF before any download.
	if err := dest.CheckEmpty(dir); err != nil {
		return usageError(err)
	}
	if o.ociLayout == "" {
		if err := pack.ParseReference(args[0], pack.WithInsecure(o.insecure)); err != nil {
			return usageError(fmt.Errorf("pulling %s: %w", args[0], err))
		}
	}
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	opts := append(netOpts,
		pack.WithMaxSize(o.maxSize.n),
		pack.WithDirMode(fs.FileMode(mode)),
		pack.WithPlatform(o.platform),
		pack.WithLogger(g.log),
		pack.WithProgress(prog.Update),
	)
	arg, kinds := args[0], source.Registry
	if o.ociLayout != "" {
		arg, kinds = o.ociLayout, source.Layout
	}
	srcp, err := openSource(ctx, g, arg, source.WithKinds(kinds), source.WithPack(opts...))
	if err != nil {
		return err
	}
	p := srcp.Artifact
	if abs, err := filepath.Abs(dir); err == nil {
		recordPull(g, filepath.Dir(abs))
	}
	if err := pack.Unpack(ctx, p, dir, opts...); err != nil {
		return err
	}
	prog.Succeeded()
	if cfg, err := p.Config(ctx); err == nil {
		if w := archWarning(filepath.Join(dir, "rootfs"), cfg, o.platform, "docker plugin create would accept it and enable would fail with \"exec format error\""); w != "" {
			fmt.Fprintln(g.stderr, w)
		}
	}
	abs, _ := filepath.Abs(dir)
	if g.outputJSON() {
		return json.NewEncoder(g.stdout).Encode(struct {
			Ref    string `json:"ref"`
			Digest string `json:"digest"`
			Dir    string `json:"dir"`
		}{p.Ref(), p.Digest(), abs})
	}
	fmt.Fprintf(g.stdout, "%s\n", abs)
	return nil
}
