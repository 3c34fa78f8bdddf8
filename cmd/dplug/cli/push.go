package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
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
		Long: `Push packs a plugin directory (config.json + rootfs/), or the plugin NAME
installed in the local store, into the artifact 'docker plugin push' produces — schema-2 manifest, plugin config blob, one
gzip rootfs layer — and uploads it to REF (for a store plugin, REF defaults
to its name, like 'docker plugin push NAME'). The config is validated
first. Layers are reproducible: pushing an unchanged plugin again uploads
no blob.

Credentials come from ~/.docker/config.json and credential helpers, like
docker. Loopback registries (localhost, 127.0.0.1) use plain HTTP; use
--insecure for other plain-HTTP registries. --oci-layout DIR writes the
artifact to an OCI image layout instead of (or as well as) a registry; an
OCI layout given as the source is pushed unchanged (air-gapped transfer).

The entrypoint must be built for the platform the plugin is pushed for:
the one an OCI layout records, else this host's, or --platform. A binary
for another architecture is refused (dockerd would install it and fail at
enable); publish several platforms with
'dplug build --platform linux/amd64,linux/arm64 --push REF'.

The result (REF@DIGEST, or {"ref","digest"} with --output json) is printed
on stdout; progress goes to stderr.`,
		Example: `  dplug push ./myplugin registry.example.com/me/myplugin:1.0
  dplug push registry.example.com/me/myplugin:1.0
  dplug push ./myplugin 127.0.0.1:5000/myplugin:dev -o json
  dplug push ./myplugin --oci-layout ./out
  dplug push ./out registry.internal/me/myplugin:1.0`,
		Args: withUsage(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			return runPush(cmd, g, &o, args[0], ref)
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

func runPush(cmd *cobra.Command, g *globalOptions, o *pushOptions, src, ref string) error {
	ctx := cmd.Context()
	netOpts, err := o.registryFlags.options(cmd.Flags())
	if err != nil {
		return err
	}
	srcp, ref, err := o.target(ctx, g, src, ref, netOpts)
	if err != nil {
		return err
	}
	stored := srcp.Stored
	prog := output.NewProgress(g.stderr)
	defer prog.Done()
	opts := append(netOpts,
		pack.WithPreserveTimes(o.preserveTimes),
		pack.WithCompressionLevel(o.level),
		pack.WithLogger(g.log),
		pack.WithProgress(prog.Update),
		pack.WithMountFrom(o.mountFrom...),
		pack.WithValidation(false), // openSource did it
	)
	if stored != nil && stored.PluginReference != "" {
		opts = append(opts, pack.WithMountFrom(stored.PluginReference))
	}
	// An unchanged rootfs is not packed again (its layer digests are kept).
	if stored != nil {
		opts = append(opts, pack.WithCache(filepath.Join(g.Root, "cache", "layers")))
	} else {
		opts = append(opts, pack.WithCache(pack.DefaultCacheDir()))
	}
	var img v1.Image
	if stored != nil {
		cfg := stored.Config
		cfg.Rootfs = nil
		data, merr := cfg.Marshal()
		if merr != nil {
			return merr
		}
		img, err = pack.ImageFromRootfs(ctx, data, stored.Rootfs(), opts...)
	} else if srcp.Kind == source.Layout {
		img, err = pack.LayoutImage(src, append(opts, pack.WithPlatform(o.platform))...)
	} else {
		img, err = pack.Image(ctx, src, opts...)
	}
	if err != nil {
		return err
	}
	if c, ok := img.(io.Closer); ok {
		defer c.Close()
	}
	if c, ok := img.(io.Closer); ok {
		defer c.Close()
	}
	return o.deliver(ctx, g, img, srcp, src, ref, opts, prog)
}

// target resolves push's argument and REF and checks the flags, before
// any packing: what is pushed (srcp) and where (ref; the installed
// plugin's own name when none is given).
func (o *pushOptions) target(ctx context.Context, g *globalOptions, src, ref string, netOpts []pack.Option) (srcp *source.Source, _ string, err error) {
	// What its author wrote is published: a plugin dir is checked with the
	// author's view (SPEC §3); a layout or an installed plugin is published
	// as it is, checked like any plugin consumed.
	srcp, err = openSource(ctx, g, src,
		source.WithKinds(source.Dir|source.Layout|source.Installed),
		source.WithAuthor(source.Dir),
		source.WithPack(append(netOpts, pack.WithPlatform(o.platform))...))
	if err != nil {
		return nil, "", err
	}
	stored := srcp.Stored
	switch {
	case srcp.Kind == source.Layout && ref == "":
		return nil, "", usageError(errors.New("push LAYOUT needs a REF"))
	case srcp.Kind == source.Dir && ref == "" && o.ociLayout == "":
		return nil, "", usageError(errors.New("push DIR needs a REF or --oci-layout DIR"))
	case stored != nil && ref == "" && o.ociLayout == "":
		ref = stored.FullName()
	}
	if o.ociLayout != "" && !pack.IsLayout(o.ociLayout) {
		// An OCI layout may gain images; any other non-empty dir is a mistake.
		if err := dest.CheckEmpty(o.ociLayout); err != nil {
			return nil, "", usageError(fmt.Errorf("--oci-layout: %w", err))
		}
	}
	if o.level < 0 || o.level > 9 {
		return nil, "", usageError(fmt.Errorf("--compression-level %d out of range: use 0 (none) to 9 (smallest)", o.level))
	}
	if ref != "" {
		// A bad REF fails before minutes of packing.
		if err := pack.ParseReference(ref, pack.WithInsecure(o.insecure)); err != nil {
			return nil, "", usageError(fmt.Errorf("pushing %s: %w", ref, err))
		}
	}
	return srcp, ref, nil
}

// deliver checks img's entrypoint for the platform, writes it to the
// OCI layout and pushes it to ref (as asked), and prints the result.
func (o *pushOptions) deliver(ctx context.Context, g *globalOptions, img v1.Image, srcp *source.Source, src, ref string, opts []pack.Option, prog *output.Progress) error {
	platform := o.platform
	if srcp.Kind == source.Layout && platform == "" {
		// The platform a layout records for the plugin (dplug build
		// --platform X --output oci=DIR) is the one it is pushed for.
		if p, err := pack.LayoutPlatform(src); err == nil {
			platform = p
		}
	}
	if err := checkPushArch(img, platform); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if o.ociLayout != "" {
		if err := pack.WriteLayout(o.ociLayout, img); err != nil {
			return err
		}
		prog.Line("wrote %s to OCI layout %s", digest, o.ociLayout)
	}
	result := struct {
		Ref       string `json:"ref,omitempty"`
		Digest    string `json:"digest"`
		OCILayout string `json:"ociLayout,omitempty"`
	}{Ref: ref, Digest: digest.String(), OCILayout: o.ociLayout}
	if ref != "" {
		d, err := pack.Push(ctx, img, ref, opts...)
		if err != nil {
			return err
		}
		result.Digest = d
	}
	prog.Succeeded()
	if g.outputJSON() {
		return json.NewEncoder(g.stdout).Encode(result)
	}
	if ref != "" {
		fmt.Fprintf(g.stdout, "%s@%s\n", ref, result.Digest)
	} else {
		fmt.Fprintln(g.stdout, result.Digest)
	}
	return nil
}
