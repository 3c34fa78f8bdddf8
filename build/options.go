package build

import (
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/dplug/dplug/build/buildkitd"
)

// Validator checks a plugin config before the build starts. file is the
// path shown in diagnostics. A non-nil error stops the build.
type Validator func(file string, data []byte) error

// options collects what Run needs; see the With* functions for defaults.
type options struct {
	addr        string
	builder     string // WithBuilder: "", auto, buildkitd or docker
	dockerHost  string
	tlsCA       string
	tlsCert     string
	tlsKey      string
	root        string
	dockerfile  string
	configFile  string
	buildArgs   map[string]string
	target      string
	platforms   []string
	contexts    map[string]string
	secrets     []string
	ssh         []string
	cacheFrom   []string
	cacheTo     []string
	noCache     bool
	progress    progressui.DisplayMode
	progressOut io.Writer
	log         *slog.Logger
	validator   Validator
	daemonOpts  []buildkitd.Option

	network        string
	exportTimeout  time.Duration
	resolveTimeout time.Duration
	extract        extractFunc // nil: extractRootfs (tests replace it)
	noReuse        bool
	rootSet        bool // WithRoot was given: the root may hold the kept rootfs
}

// Option configures Run.
type Option func(*options)

// WithAddr sets the BuildKit address (unix://, tcp://, docker-container://,
// kube-pod://, ssh://). Default: $BUILDKIT_HOST, else dplug's own buildkitd.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithTLS sets the CA, client certificate and key for a tcp:// address.
// Empty strings leave that part unset.
func WithTLS(caCert, cert, key string) Option {
	return func(o *options) { o.tlsCA, o.tlsCert, o.tlsKey = caCert, cert, key }
}

// WithRoot sets the dplug root whose buildkitd is started or reused when no
// address is given. Default: /var/lib/dplug.
func WithRoot(root string) Option { return func(o *options) { o.root, o.rootSet = root, true } }

// WithBuildkitdOptions configures dplug's own buildkitd, used when no
// address is given (e.g. buildkitd.WithIdleTimeout).
func WithBuildkitdOptions(opts ...buildkitd.Option) Option {
	return func(o *options) { o.daemonOpts = append(o.daemonOpts, opts...) }
}

// WithDockerfile sets the Dockerfile path. Default: CONTEXT/Dockerfile.
func WithDockerfile(path string) Option { return func(o *options) { o.dockerfile = path } }

// WithConfigFile sets the plugin config. Default: CONTEXT/config.json.
func WithConfigFile(path string) Option { return func(o *options) { o.configFile = path } }

// WithBuildArgs adds Dockerfile ARG values.
func WithBuildArgs(args map[string]string) Option {
	return func(o *options) {
		if o.buildArgs == nil {
			o.buildArgs = map[string]string{}
		}
		maps.Copy(o.buildArgs, args)
	}
}

// WithTarget builds the named stage instead of the last one.
func WithTarget(stage string) Option { return func(o *options) { o.target = stage } }

// WithPlatforms sets the target platforms (os/arch[/variant]). Default: the
// BuildKit worker's. Several platforms need a MultiDest (Dir, Registry):
// each becomes a plugin of its own.
func WithPlatforms(p ...string) Option { return func(o *options) { o.platforms = p } }

// WithBuildContexts adds named build contexts, like buildx --build-context
// NAME=VALUE: a local directory, oci-layout://PATH[:TAG][@DIGEST],
// docker-image://REF, or a git/https URL.
func WithBuildContexts(c map[string]string) Option {
	return func(o *options) {
		if o.contexts == nil {
			o.contexts = map[string]string{}
		}
		maps.Copy(o.contexts, c)
	}
}

// WithSecrets adds build secrets, buildx syntax: id=ID,src=PATH or
// id=ID,env=VAR.
func WithSecrets(specs ...string) Option {
	return func(o *options) { o.secrets = append(o.secrets, specs...) }
}

// WithSSH forwards SSH agents or keys, buildx syntax: default or ID=PATH[,PATH].
func WithSSH(specs ...string) Option { return func(o *options) { o.ssh = append(o.ssh, specs...) } }

// WithCacheFrom imports build cache, buildx syntax (type=registry,ref=...,
// type=local,src=...).
func WithCacheFrom(specs ...string) Option {
	return func(o *options) { o.cacheFrom = append(o.cacheFrom, specs...) }
}

// WithCacheTo exports build cache, buildx syntax.
func WithCacheTo(specs ...string) Option {
	return func(o *options) { o.cacheTo = append(o.cacheTo, specs...) }
}

// WithNoCache disables the build cache for every step.
func WithNoCache(on bool) Option { return func(o *options) { o.noCache = on } }

// WithProgress sets how progress is shown and where: auto, plain, tty,
// quiet or rawjson. Default: quiet (nothing), since a library must not
// print unless asked.
func WithProgress(mode string, w io.Writer) Option {
	return func(o *options) { o.progress, o.progressOut = progressui.DisplayMode(mode), w }
}

// WithNetwork sets the network of RUN steps, like buildx --network:
// "default" (or "") the daemon's, "host" the host's (BuildKit's
// network.host entitlement, which the daemon must allow: dplug's own
// buildkitd does), "none" only a loopback interface.
func WithNetwork(mode string) Option { return func(o *options) { o.network = mode } }

// WithExportTimeout bounds how long the rootfs export may make no progress
// (no byte of the rootfs received or written, or, once it is all there, no
// word from BuildKit) before the build is canceled with a *StallError.
// Build steps themselves are not timed. Default (and for d <= 0):
// DefaultExportTimeout.
func WithExportTimeout(d time.Duration) Option { return func(o *options) { o.exportTimeout = d } }

// WithResolveTimeout bounds how long resolving one base image from its
// registry may take before the build is canceled with a *ResolveError.
// Default (and for d <= 0): DefaultResolveTimeout.
func WithResolveTimeout(d time.Duration) Option { return func(o *options) { o.resolveTimeout = d } }

// WithReuse says whether a build pushed to a registry may reuse the
// rootfs of the last build of the same project when nothing it depends on
// changed (see reuse.go), instead of exporting it from BuildKit again.
// Default: true when WithRoot is given (the rootfs is kept under
// ROOT/build/reuse), else false.
func WithReuse(on bool) Option { return func(o *options) { o.noReuse = !on } }

// WithLogger sets the logger for debug details. Default: discarded.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithValidator replaces the check run on config.json before the build.
// Default: package validate's rules; errors stop the build with a
// *validate.ConfigError, warnings are written to the progress writer.
func WithValidator(v Validator) Option { return func(o *options) { o.validator = v } }

func makeOptions(contextDir string, opts []Option) options {
	o := options{
		root:     "/var/lib/dplug",
		progress: progressui.QuietMode,
		log:      slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.addr == "" {
		o.addr = os.Getenv("BUILDKIT_HOST")
	}
	if o.dockerfile == "" {
		o.dockerfile = filepath.Join(contextDir, "Dockerfile")
	}
	if o.configFile == "" {
		o.configFile = filepath.Join(contextDir, "config.json")
	}
	if o.progressOut == nil {
		o.progressOut = io.Discard
	}
	if o.progress == "" {
		o.progress = progressui.AutoMode
	}
	return o
}
