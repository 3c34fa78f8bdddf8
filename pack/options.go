package pack

import (
	"compress/gzip"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Progress is one progress report: Phase says what is happening
// ("packing", then for a push PhaseConnecting, PhaseUploading and
// PhaseFinishing; for a pull PhaseConnecting and PhasePulling), Complete
// and Total count bytes (both 0 in phases that move none, Total 0 when
// unknown).
type Progress struct {
	Phase    string
	Complete int64
	Total    int64
}

// Option configures Image, Push, Fetch, ReadLayout and Pull.
type Option func(*options)

type options struct {
	insecure      bool
	platform      string
	progress      func(Progress)
	keychain      authn.Keychain
	preserveTimes bool
	level         int
	log           *slog.Logger
	transport     http.RoundTripper // nil: newTransport(timeout)
	timeout       time.Duration
	maxSize       int64
	maxSizeSet    bool
	dirMode       fs.FileMode
	observe       func(*http.Request) // sees every registry request (progress)
	validate      bool
	mountFrom     []string
	index         bool
	cacheDir      string
}

func makeOptions(opts ...Option) *options {
	o := &options{
		keychain: authn.DefaultKeychain,
		level:    gzip.DefaultCompression,
		log:      slog.New(slog.DiscardHandler),
		timeout:  DefaultTimeout,
		maxSize:  DefaultMaxSize,
		dirMode:  0o700,
		progress: func(Progress) {},
		validate: true,
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithInsecure allows plain HTTP (and unverified TLS) to the registry.
// Loopback registries (localhost, 127.0.0.0/8, ::1) always use plain HTTP,
// like Docker; the default is false.
func WithInsecure(insecure bool) Option {
	return func(o *options) { o.insecure = insecure }
}

// WithPlatform selects the plugin to use when a reference or layout holds an
// index of several plugins: "os/arch[/variant]". The default is the host's.
func WithPlatform(platform string) Option {
	return func(o *options) { o.platform = platform }
}

// WithProgress receives progress reports. fn is called from the goroutine
// doing the work and must return quickly. The default discards them.
func WithProgress(fn func(Progress)) Option {
	return func(o *options) {
		if fn != nil {
			o.progress = fn
		}
	}
}

// WithKeychain sets where registry credentials come from. The default is
// authn.DefaultKeychain (~/.docker/config.json and credential helpers).
func WithKeychain(kc authn.Keychain) Option {
	return func(o *options) {
		if kc != nil {
			o.keychain = kc
		}
	}
}

// WithPreserveTimes keeps file modification times and owners in the layer
// instead of normalising them (mtime 0, uid/gid 0), at the cost of
// reproducibility. The default is false.
func WithPreserveTimes(preserve bool) Option {
	return func(o *options) { o.preserveTimes = preserve }
}

// WithCompressionLevel sets the gzip level of the layer, from 1 (fastest) to
// 9 (smallest); 0 stores without compression (still gzip-framed). The
// default is gzip's default, 6 — the same as dockerd.
func WithCompressionLevel(level int) Option {
	return func(o *options) { o.level = level }
}

// WithLogger sets where pack logs what it does. The default discards logs.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithValidation turns the config validation Image does before packing on
// or off. The default is on; turn it off only for configs validated already
// or to reproduce what dockerd accepts blindly.
func WithValidation(on bool) Option {
	return func(o *options) { o.validate = on }
}

// WithMountFrom names other references on the target registry that may
// already hold the plugin's layers (e.g. the previous release, or where the
// plugin was installed from): Push asks the registry to mount the blobs
// from there instead of uploading them. References on other registries are
// ignored; a failed mount falls back to an upload. Default: none.
func WithMountFrom(refs ...string) Option {
	return func(o *options) { o.mountFrom = append(o.mountFrom, refs...) }
}

// WithIndex makes PushPlatforms also push a manifest list at TAG. Default
// false: `docker plugin install REPO:TAG` fails on an index ("did not find
// plugin config for specified reference"), so TAG is left to the user.
func WithIndex(on bool) Option {
	return func(o *options) { o.index = on }
}

// DefaultMaxSize is how many bytes a plugin's layers may expand to
// (uncompressed tar) unless WithMaxSize says otherwise. Plugin rootfs are
// typically tens of MiB; 4 GiB leaves room for fat ones while a
// decompression bomb cannot fill the disk.
const DefaultMaxSize = 4 << 30

// maxRatio and ratioFloor bound how far a layer may expand relative to its
// compressed size, while WithMaxSize was not given: past ratioFloor, at
// most maxRatio times the declared size. Real rootfs layers compress 2–10×;
// a gzip bomb reaches 1000×.
const (
	maxRatio   = 100
	ratioFloor = 512 << 20
)

// WithMaxSize sets how many bytes the layers of a plugin may expand to
// (uncompressed tar, all layers together) when pulled or installed. The
// default is DefaultMaxSize, and, beyond 512 MiB, at most 100 times the
// compressed layer size; an explicit WithMaxSize lifts that ratio check.
// n <= 0 means the default.
func WithMaxSize(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			o.maxSize, o.maxSizeSet = DefaultMaxSize, false
			return
		}
		o.maxSize, o.maxSizeSet = n, true
	}
}

// sizeLimits are the expansion bounds a Plugin applies to its layers.
type sizeLimits struct {
	max   int64 // all layers, uncompressed
	ratio bool  // also bound each layer to maxRatio × its compressed size…
	floor int64 // …or this, whichever is more
}

func (o *options) sizeLimits() sizeLimits {
	return sizeLimits{max: o.maxSize, ratio: !o.maxSizeSet, floor: ratioFloor}
}

// WithDirMode sets the permissions of the plugin directory Unpack and
// Pull create. The default, 0700, keeps the rootfs's setuid/setgid bits
// and file capabilities (as dockerd does): only the owner can reach them.
// A mode that lets group or others in (e.g. 0755) strips them from every
// file first.
func WithDirMode(perm fs.FileMode) Option {
	return func(o *options) { o.dirMode = perm.Perm() }
}

// ParseDirMode reads a plugin directory's permissions as octal (0700,
// 0755): permissions the owner can use (rwx), for WithDirMode.
func ParseDirMode(s string) (fs.FileMode, error) {
	mode, err := strconv.ParseUint(s, 8, 32)
	if err != nil || mode > 0o777 || mode&0o700 != 0o700 {
		return 0, fmt.Errorf("--dir-mode %s: want octal permissions the owner can use, like 0700 or 0755", s)
	}
	return fs.FileMode(mode), nil
}

// WithTimeout bounds each network wait of a registry operation: dialing,
// the TLS handshake, waiting for response headers, and any silence while a
// body is read or written (an idle timeout: a big layer takes as long as
// it needs while bytes flow). It applies to the registry, its token server
// and blob transfers. A wait that runs out fails with ErrTimeout at once,
// without retries. d <= 0 means DefaultTimeout (30 s). WithTransport
// replaces the transport these bounds are built into.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			d = DefaultTimeout
		}
		o.timeout = d
	}
}

// WithTransport sets the HTTP transport under pack's auth, retry and
// redirect-limit layers, instead of the one WithTimeout configures; the
// caller then owns its timeouts. The default builds one with the timeout.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) {
		if t != nil {
			o.transport = t
		}
	}
}
