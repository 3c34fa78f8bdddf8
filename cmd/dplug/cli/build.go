package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/store"
)

// buildOptions are the flags of `dplug build`, named like docker buildx's.
type buildOptions struct {
	file          string
	tags          []string
	buildArgs     []string
	target        string
	platforms     []string
	contexts      []string
	secrets       []string
	ssh           []string
	cacheFrom     []string
	cacheTo       []string
	noCache       bool
	network       string
	exportTimeout time.Duration
	progress      string
	config        string
	outputs       []string
	push          string
	insecure      bool
	index         bool
	addr          string
	builder       string
	load          bool
	tlsCA         string
	tlsCert       string
	tlsKey        string
	resultFormat  string // text or json, from --output json
	root          string // the store root, from --root
}

func newBuildCmd(g *globalOptions) *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build [CONTEXT]",
		Short: "Build a plugin's rootfs from a Dockerfile with BuildKit",
		Long: `Build runs the Dockerfile in CONTEXT (default ".") with BuildKit and turns the
result into a managed plugin: the rootfs of the final (or --target) stage plus
CONTEXT/config.json (or --config). The config is validated first: a broken
config fails in milliseconds, not after the build.

Where the plugin goes:
  --output dir=PATH    a plugin directory (PATH/config.json + PATH/rootfs/),
                       what 'docker plugin create NAME PATH' reads
  --output oci=PATH    the registry artifact as an OCI image layout
  --push REF           the registry artifact, pushed ('docker plugin install REF')
  -t NAME[:TAG]        the local plugin store, disabled (like 'docker plugin
                       create'), replacing a disabled plugin of that name
  --load -t NAME       a running Docker Engine instead, enabled (see 'dplug load')
Several destinations may be combined (e.g. -t NAME --push REF).
Docker installs single-platform plugins only: --platform A,B builds one plugin
per platform: PATH/os_arch/ (dir), one layout with a plugin per platform (oci),
or REF's TAG-ARCH tags (--push; --index adds a manifest list at REF).

BuildKit (--builder auto, the default, takes the first that applies):
  1. --addr or BUILDKIT_HOST (unix://, tcp:// with --tlscacert/--tlscert/
     --tlskey, docker-container://, kube-pod://, ssh://);
  2. dplug's own buildkitd, when installed and run as root (runc worker, state
     under --root), reused by later builds; it stops after 30 minutes unused
     (DPLUG_BUILDKITD_IDLE) or with 'dplug buildkitd stop';
  3. the Docker Engine's BuildKit (DOCKER_HOST, DOCKER_CONTEXT or the current
     docker context; ssh:// too): no root, nothing to install. Docker Engine
     20.10's embedded BuildKit is old: --build-context needs Docker 23+.
--builder buildkitd|docker forces one; --builder ADDRESS is --addr.

Base images: without Docker Hub access, give FROM images as named contexts
(--build-context NAME=oci-layout:///PATH@sha256:..., docker-image://REF, a
directory) or from a local registry (FROM 127.0.0.1:PORT/IMAGE).

RUN steps use the daemon's network (--network default), the host's (host,
BuildKit's network.host entitlement) or only a loopback interface (none).

The rootfs comes from BuildKit as one tar stream. Steps may take as long as
they need, but an export that makes no progress for --export-timeout (2m) is
canceled with an error that says where it stalled.

Nothing is half-written: a failed or interrupted (Ctrl-C) build leaves no
output. The result (path, REF@DIGEST, or JSON with --output json) goes to
stdout, progress to stderr (--progress auto|plain|tty|quiet|rawjson, or
BUILDKIT_PROGRESS).`,
		Example: `  dplug build --output dir=./out .
  dplug build --push 127.0.0.1:5000/me/myplugin:1.0 .
  dplug build --build-context alpine=oci-layout:///srv/images/alpine@sha256:... --output oci=./layout .
  dplug build --secret id=token,src=$HOME/.token --build-arg VERSION=1.2 --target release -o dir=out .`,
		Args: withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			contextDir := "."
			if len(args) == 1 {
				contextDir = args[0]
			}
			return runBuild(cmd, g, &o, contextDir)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "Dockerfile `PATH` (default CONTEXT/Dockerfile)")
	f.StringArrayVarP(&o.tags, "tag", "t", nil, "plugin `NAME[:TAG]` in the local store")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "build-time variable `KEY=VALUE` (KEY alone takes it from the environment)")
	f.StringVar(&o.target, "target", "", "build this `STAGE` instead of the last one")
	f.StringSliceVar(&o.platforms, "platform", nil, "target `OS/ARCH` (default: the builder's)")
	f.StringArrayVar(&o.contexts, "build-context", nil, "named context `NAME=VALUE` (directory, oci-layout://PATH[:TAG][@DIGEST], docker-image://REF, URL)")
	f.StringArrayVar(&o.secrets, "secret", nil, "build secret `id=ID,src=PATH|env=VAR`")
	f.StringArrayVar(&o.ssh, "ssh", nil, "SSH agent or keys to forward: `default|ID=PATH[,PATH]`")
	f.StringArrayVar(&o.cacheFrom, "cache-from", nil, "import build cache (`type=registry,ref=REF` | type=local,src=DIR)")
	f.StringArrayVar(&o.cacheTo, "cache-to", nil, "export build cache (`type=registry,ref=REF` | type=local,dest=DIR)")
	f.BoolVar(&o.noCache, "no-cache", false, "do not use the build cache")
	f.StringVar(&o.network, "network", "default", "network of RUN steps: `default`, host or none")
	f.DurationVar(&o.exportTimeout, "export-timeout", build.DefaultExportTimeout, "cancel the build when the rootfs export makes no progress for this `DURATION`")
	f.StringVar(&o.progress, "progress", "", "progress `MODE`: auto, plain, tty, quiet or rawjson (env BUILDKIT_PROGRESS; default auto)")
	f.StringVar(&o.config, "config", "", "plugin config `PATH` (default CONTEXT/config.json)")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "destination `dir=PATH|oci=PATH` (buildx's type=local|oci,dest=PATH too); json prints the result as JSON")
	f.StringVar(&o.push, "push", "", "pack and push the plugin to `REF`")
	addInsecure(f, &o.insecure, "--push")
	f.BoolVar(&o.index, "index", false, "with several --platform and --push, also push a manifest list at REF (for dplug pull; dockerd cannot install from it)")
	f.StringVar(&o.addr, "addr", "", "BuildKit `ADDRESS` (env BUILDKIT_HOST; default: dplug's own buildkitd)")
	f.StringVar(&o.builder, "builder", "auto", "`BUILDER`: auto, buildkitd (dplug's own), docker (the Docker Engine's BuildKit) or a BuildKit address")
	f.BoolVar(&o.load, "load", false, "load the plugin into the Docker Engine as -t NAME and enable it, instead of the local store")
	f.StringVar(&o.tlsCA, "tlscacert", "", "CA certificate `FILE` for a tcp:// BuildKit")
	f.StringVar(&o.tlsCert, "tlscert", "", "client certificate `FILE` for a tcp:// BuildKit")
	f.StringVar(&o.tlsKey, "tlskey", "", "client key `FILE` for a tcp:// BuildKit")
	return cmd
}

// dest picks the plugin's destination from --output, --push and -t.
func (o *buildOptions) dest(packOpts []pack.Option) (build.Dest, error) {
	var dests []build.Dest
	for _, out := range o.outputs {
		switch out {
		case "json", "text":
			o.resultFormat = out
			continue
		}
		d, err := parseOutput(out, packOpts)
		if err != nil {
			return nil, err
		}
		dests = append(dests, d)
	}
	if o.push != "" {
		// Bad names fail now, not after the build.
		if err := pack.ParseReference(o.push, packOpts...); err != nil {
			return nil, fmt.Errorf("--push %s: %w", o.push, err)
		}
		dests = append(dests, &build.Registry{Ref: o.push, Options: packOpts})
	}
	if len(o.tags) > 1 {
		return nil, errors.New("one -t NAME per build")
	}
	if len(o.tags) == 1 {
		if _, _, err := store.ParseName(o.tags[0]); err != nil {
			return nil, fmt.Errorf("-t %s: %w", o.tags[0], err)
		}
		var d build.Dest = &build.Store{Root: o.root, Name: o.tags[0]}
		if o.load {
			d = &build.Engine{Name: o.tags[0]}
		}
		dests = append([]build.Dest{d}, dests...)
		if o.load && len(o.platforms) > 1 {
			return nil, errors.New("--load takes one --platform: a Docker Engine runs plugins of its own platform")
		}
	} else if o.load {
		return nil, errors.New("--load needs -t NAME: the plugin's name in the Docker Engine")
	}
	if len(dests) == 0 {
		return nil, errors.New("no destination: give -t NAME, --output dir=PATH, --output oci=PATH or --push REF")
	}
	return build.All(dests...)
}

// parseOutput reads dir=PATH, oci=PATH, or buildx's type=local|oci,dest=PATH.
func parseOutput(s string, packOpts []pack.Option) (build.Dest, error) {
	kind, path := "", ""
	if k, v, ok := strings.Cut(s, "="); ok && (k == "dir" || k == "oci") {
		kind, path = k, v
	} else {
		for _, field := range strings.Split(s, ",") {
			k, v, ok := strings.Cut(field, "=")
			if !ok {
				return nil, fmt.Errorf("invalid --output %q: want dir=PATH or oci=PATH", s)
			}
			switch k {
			case "type":
				kind = v
			case "dest":
				path = v
			default:
				return nil, fmt.Errorf("invalid --output %q: unknown key %q", s, k)
			}
		}
	}
	if path == "" {
		return nil, fmt.Errorf("invalid --output %q: no path", s)
	}
	switch kind {
	case "dir", "local":
		return &build.Dir{Path: path}, nil
	case "oci":
		return &build.OCILayout{Path: path, Options: packOpts}, nil
	}
	return nil, fmt.Errorf("invalid --output %q: type must be dir (local) or oci", s)
}

// parseKV splits KEY=VALUE flags; with fromEnv, a bare KEY takes its value
// from the environment (like docker build --build-arg).
func parseKV(flag string, vals []string, fromEnv bool) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --%s %q: want KEY=VALUE", flag, v)
		}
		if !ok {
			if !fromEnv {
				return nil, fmt.Errorf("invalid --%s %q: want NAME=VALUE", flag, v)
			}
			e, found := os.LookupEnv(k)
			if !found {
				continue
			}
			val = e
		}
		m[k] = val
	}
	return m, nil
}

func runBuild(cmd *cobra.Command, g *globalOptions, o *buildOptions, contextDir string) error {
	ctx := cmd.Context()
	progress := o.progress
	if progress == "" {
		progress = os.Getenv("BUILDKIT_PROGRESS")
	}
	if progress == "" {
		progress = "auto"
	}
	switch progress {
	case "auto", "plain", "tty", "quiet", "rawjson":
	default:
		return usageError(fmt.Errorf("invalid --progress %q: use auto, plain, tty, quiet or rawjson", progress))
	}
	if !g.Debug {
		// containerd's content store (used for oci-layout contexts) logs
		// harmless warnings through logrus' global logger.
		logrus.SetOutput(io.Discard)
	}

	// Packing and pushing report into BuildKit's display (build does that).
	// The layer cache (content-verified: an export rewrites every file)
	// makes an unchanged build pack nothing.
	packOpts := []pack.Option{pack.WithInsecure(o.insecure), pack.WithIndex(o.index), pack.WithLogger(g.log),
		pack.WithCache(filepath.Join(g.Root, "cache", "layers"))}
	o.root = g.Root
	dest, err := o.dest(packOpts)
	if err != nil {
		return usageError(err)
	}
	args, err := parseKV("build-arg", o.buildArgs, true)
	if err != nil {
		return usageError(err)
	}
	contexts, err := parseKV("build-context", o.contexts, false)
	if err != nil {
		return usageError(err)
	}
	daemonOpts, err := daemonOptions(g)
	if err != nil {
		return usageError(err)
	}
	opts := []build.Option{
		build.WithRoot(g.Root),
		build.WithBuildkitdOptions(daemonOpts...),
		build.WithLogger(g.log),
		build.WithProgress(progress, g.stderr),
		build.WithBuildArgs(args),
		build.WithBuildContexts(contexts),
		build.WithTarget(o.target),
		build.WithSecrets(o.secrets...),
		build.WithSSH(o.ssh...),
		build.WithCacheFrom(o.cacheFrom...),
		build.WithCacheTo(o.cacheTo...),
		build.WithNoCache(o.noCache),
		build.WithNetwork(o.network),
		build.WithExportTimeout(o.exportTimeout),
		build.WithTLS(o.tlsCA, o.tlsCert, o.tlsKey),
	}
	if len(o.platforms) > 0 {
		opts = append(opts, build.WithPlatforms(o.platforms...))
	}
	if o.addr != "" {
		opts = append(opts, build.WithAddr(o.addr))
	}
	if o.builder != build.BuilderAuto {
		if o.addr != "" {
			return usageError(errors.New("--addr and --builder both name a builder: give one"))
		}
		opts = append(opts, build.WithBuilder(o.builder))
	}
	if o.file != "" {
		opts = append(opts, build.WithDockerfile(o.file))
	}
	if o.config != "" {
		opts = append(opts, build.WithConfigFile(o.config))
	}
	res, err := build.Run(ctx, contextDir, dest, opts...)
	if err != nil {
		var ie *build.InputError
		if errors.As(err, &ie) {
			return usageError(err)
		}
		return err
	}
	if o.resultFormat == "json" || g.outputJSON() {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintln(g.stdout, res.Output)
	return nil
}
