package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"golang.org/x/term"

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
	// What its author wrote is published: a plugin dir is checked with the
	// author's view (SPEC §3); a layout or an installed plugin is published
	// as it is, checked like any plugin consumed.
	srcp, err := openSource(ctx, g, src,
		source.WithKinds(source.Dir|source.Layout|source.Installed),
		source.WithAuthor(source.Dir),
		source.WithPack(append(netOpts, pack.WithPlatform(o.platform))...))
	if err != nil {
		return err
	}
	stored := srcp.Stored
	switch {
	case srcp.Kind == source.Layout && ref == "":
		return usageError(errors.New("push LAYOUT needs a REF"))
	case srcp.Kind == source.Dir && ref == "" && o.ociLayout == "":
		return usageError(errors.New("push DIR needs a REF or --oci-layout DIR"))
	case stored != nil && ref == "" && o.ociLayout == "":
		ref = stored.FullName()
	}
	if o.ociLayout != "" && !pack.IsLayout(o.ociLayout) {
		// An OCI layout may gain images; any other non-empty dir is a mistake.
		if err := checkEmptyDir(o.ociLayout); err != nil {
			return usageError(fmt.Errorf("--oci-layout: %w", err))
		}
	}
	if o.level < 0 || o.level > 9 {
		return usageError(fmt.Errorf("--compression-level %d out of range: use 0 (none) to 9 (smallest)", o.level))
	}
	if ref != "" {
		// A bad REF fails before minutes of packing.
		if err := pack.ParseReference(ref, pack.WithInsecure(o.insecure)); err != nil {
			return usageError(fmt.Errorf("pushing %s: %w", ref, err))
		}
	}
	prog := newProgress(g.stderr)
	defer prog.done()
	opts := append(netOpts,
		pack.WithPreserveTimes(o.preserveTimes),
		pack.WithCompressionLevel(o.level),
		pack.WithLogger(g.log),
		pack.WithProgress(prog.update),
		pack.WithMountFrom(o.mountFrom...),
		pack.WithValidation(false), // openSource did it
	)
	if stored != nil && stored.PluginReference != "" {
		opts = append(opts, pack.WithMountFrom(stored.PluginReference))
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
		prog.line("wrote %s to OCI layout %s", digest, o.ociLayout)
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
	prog.succeeded()
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
	if err := checkEmptyDir(dir); err != nil {
		return usageError(err)
	}
	if o.ociLayout == "" {
		if err := pack.ParseReference(args[0], pack.WithInsecure(o.insecure)); err != nil {
			return usageError(fmt.Errorf("pulling %s: %w", args[0], err))
		}
	}
	prog := newProgress(g.stderr)
	defer prog.done()
	opts := append(netOpts,
		pack.WithMaxSize(o.maxSize.n),
		pack.WithDirMode(fs.FileMode(mode)),
		pack.WithPlatform(o.platform),
		pack.WithLogger(g.log),
		pack.WithProgress(prog.update),
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
	if err := pack.Unpack(ctx, p, dir, opts...); err != nil {
		return err
	}
	prog.succeeded()
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

// progress shows pack's progress on stderr: a live line with bytes and rate
// on a terminal, one line per finished phase otherwise (CI logs).
type progress struct {
	w       io.Writer
	tty     bool
	phase   string
	start   time.Time
	last    pack.Progress
	lastOut time.Time
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) update(u pack.Progress) {
	if u.Phase != p.phase {
		p.finish(true)
		p.phase, p.start = u.Phase, time.Now()
	}
	p.last = u
	if p.tty && time.Since(p.lastOut) > 100*time.Millisecond {
		p.lastOut = time.Now()
		fmt.Fprintf(p.w, "\r\033[K%s", p.format())
	}
}

// format renders the live line: phase, bytes so far (of total), rate.
func (p *progress) format() string {
	el := time.Since(p.start).Seconds()
	rate := ""
	if el > 0.05 {
		rate = "  " + human(int64(float64(p.last.Complete)/el)) + "/s"
	}
	total := ""
	if p.last.Total > 0 && p.last.Total != p.last.Complete {
		total = " / " + human(p.last.Total)
	}
	if p.noBytes() {
		return fmt.Sprintf("%-10s %s", p.phase, time.Since(p.start).Round(100*time.Millisecond))
	}
	return fmt.Sprintf("%-10s %s%s%s", p.phase, human(p.last.Complete), total, rate)
}

// noBytes reports whether the current phase moves no bytes (connecting,
// finishing): waiting on the registry.
func (p *progress) noBytes() bool { return p.last.Complete == 0 && p.last.Total == 0 }

// summary renders the line for a finished phase.
func (p *progress) summary() string {
	el := time.Since(p.start).Round(time.Millisecond)
	if p.noBytes() {
		return fmt.Sprintf("%-10s in %s", p.phase, el)
	}
	return fmt.Sprintf("%-10s %s in %s", p.phase, human(p.last.Complete), el)
}

// finish ends the current phase's line. A phase that moved no bytes is
// summed up only when another phase follows (next): a command that fails
// while connecting prints its error alone.
func (p *progress) finish(next bool) {
	if p.phase == "" {
		return
	}
	if !next && p.noBytes() {
		if p.tty {
			fmt.Fprint(p.w, "\r\033[K")
		}
		p.phase = ""
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", p.summary())
	} else {
		fmt.Fprintln(p.w, p.summary())
	}
	p.phase = ""
}

// done ends the progress of a command that failed (or any): a phase that
// moved no bytes is not summed up.
func (p *progress) done() { p.finish(false) }

// succeeded ends the progress of a command that worked: every phase is
// summed up.
func (p *progress) succeeded() { p.finish(true) }

// line prints a message, keeping the live line intact.
func (p *progress) line(format string, args ...any) {
	p.finish(true)
	fmt.Fprintf(p.w, format+"\n", args...)
}

// human renders a byte count in B, KiB, MiB or GiB.
func human(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// checkEmptyDir accepts a path that does not exist or is an empty
// directory: where pull and export may write a plugin dir.
func checkEmptyDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory: give a new or empty directory", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return fmt.Errorf("%s is not empty: give a new or empty directory", dir)
	}
	return nil
}
