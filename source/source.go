package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/store"
	"github.com/dplug/dplug/validate"
)

// Kind says where a plugin comes from. Kinds combine as a set (WithKinds)
// to say which a command accepts.
type Kind int

// The kinds of source, in the order Open tries them.
const (
	// Dir is a plugin dir as `docker plugin create` takes it: config.json
	// and rootfs/.
	Dir Kind = 1 << iota
	// Layout is an OCI image layout holding a plugin artifact.
	Layout
	// Installed is a plugin in the local store, named by name or ID.
	Installed
	// Registry is a registry reference.
	Registry

	// Any accepts every kind.
	Any = Dir | Layout | Installed | Registry
)

// String names the kinds in k the way errors list them.
func (k Kind) String() string {
	var names []string
	for _, c := range []struct {
		k    Kind
		name string
	}{
		{Dir, "plugin dir (config.json + rootfs/)"},
		{Layout, "OCI layout"},
		{Installed, "installed plugin"},
		{Registry, "registry reference"},
	} {
		if k&c.k != 0 {
			names = append(names, c.name)
		}
	}
	switch len(names) {
	case 0:
		return "nothing"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Source is a plugin resolved from a command's argument, its config read
// and validated. It satisfies store.Source, so any source can be installed.
type Source struct {
	Kind Kind
	// Arg is the argument as given.
	Arg string
	// Name is the local name the plugin takes by default: the directory's
	// base name for a dir or layout, the reference's name for a registry,
	// the full name for an installed plugin.
	Name string
	// Reference is the fully qualified, tagged reference of a registry
	// source (as dockerd records PluginReference), or the reference an
	// installed plugin came from; "" otherwise.
	Reference string
	// Raw is the config as read: config.json, or the artifact's config blob.
	Raw []byte
	// Config is Raw decoded.
	Config *plugin.Config
	// Warnings are the validator's findings that do not refuse the
	// plugin; the caller shows them.
	Warnings []validate.Diagnostic
	// Rootfs is the rootfs directory on disk (Dir and Installed), "" for
	// artifacts, whose rootfs is in layers.
	Rootfs string
	// Installed is the store's record (Installed only).
	Stored *store.Plugin
	// Artifact is the registry or layout artifact (Layout and Registry).
	Artifact *pack.Plugin
	// Staged marks a plugin dir a build staged for delivery (Dir only): a
	// private copy that a destination may move away instead of copying.
	Staged bool
	// Platform is the os/arch[/variant] the plugin was built for when a
	// build was asked for one; OCI layouts record it. "" otherwise.
	Platform string
}

var _ store.Source = (*Source)(nil)

// ConfigJSON returns the config bytes (store.Source).
func (s *Source) ConfigJSON(context.Context) ([]byte, error) { return s.Raw, nil }

// Layers streams the rootfs as uncompressed tar layers (store.Source).
func (s *Source) Layers(ctx context.Context, fn func(tar io.Reader) error) error {
	if s.Artifact != nil {
		return s.Artifact.Layers(ctx, fn)
	}
	if s.Kind == Dir {
		return store.DirSource(filepath.Dir(s.Rootfs)).Layers(ctx, fn)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.WriteDir(ctx, pw, s.Rootfs)) }()
	err := fn(pr)
	pr.CloseWithError(errors.New("layer consumer returned"))
	return err
}

// NotFoundError says that an argument names no source of the kinds a
// command accepts. Path reports whether the argument could only be a
// path (the CLI treats that as a usage error).
type NotFoundError struct {
	Arg   string
	Kinds Kind
	Path  bool
	// Why is set when the argument exists but is no plugin source.
	Why string
}

func (e *NotFoundError) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("%s %s", e.Arg, e.Why)
	}
	kinds := e.Kinds
	if e.Path && kinds&(Dir|Layout) != 0 {
		kinds &= Dir | Layout // what a path can name
	}
	return fmt.Sprintf("%s: no such %s", e.Arg, kinds)
}

// Option configures Open.
type Option func(*options)

type options struct {
	kinds    Kind
	authored Kind
	nocheck  bool
	store    func() (*store.Store, error)
	pack     []pack.Option
	validate []validate.Option
	log      *slog.Logger
}

// WithKinds sets which kinds of source are accepted (default Any).
func WithKinds(k Kind) Option { return func(o *options) { o.kinds = k } }

// WithStore gives the store installed plugins are looked up in; it is
// opened only when needed (default: no store, so Installed never matches).
func WithStore(open func() (*store.Store, error)) Option {
	return func(o *options) { o.store = open }
}

// WithPack sets the options used to read layouts and registries
// (credentials, --insecure, platform, progress, timeouts).
func WithPack(opts ...pack.Option) Option {
	return func(o *options) { o.pack = append(o.pack, opts...) }
}

// WithAuthor validates sources of the kinds k for their author (SPEC §3:
// what dockerd accepts but runs differently from what is written is an
// error); other kinds get the consumer's view, where only what dockerd
// refuses is an error. Default: no kind (everything is consumed), the
// view of install, pull, run and test; `push DIR` publishes what its
// author wrote, so push passes Dir.
func WithAuthor(k Kind) Option { return func(o *options) { o.authored = k } }

// Unchecked resolves without validating: for commands that only need to
// find a plugin, such as stopping one whose config.json was since broken.
// Config is then the zero Config when the file does not decode.
func Unchecked() Option { return func(o *options) { o.nocheck = true } }

// WithValidate adds validator options (audience, settings) to the check
// every source's config goes through.
func WithValidate(opts ...validate.Option) Option {
	return func(o *options) { o.validate = append(o.validate, opts...) }
}

// WithLogger logs each of the config's warnings on l (Warn, the
// diagnostic's line as the message), as well as keeping them in Warnings.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Open resolves arg, in this order: a directory holding config.json (a
// plugin dir), a directory holding oci-layout (an OCI layout), an
// installed plugin, a registry reference — limited to the kinds accepted.
// Whatever the kind, the config is validated the same way: errors refuse
// the source with a *validate.ConfigError (a document that is not a plugin
// config at all is one DP007 error), and warnings are kept in Warnings.
// An argument that names nothing gives a *NotFoundError (or the store's
// ErrNotFound for a plugin name).
func Open(ctx context.Context, arg string, opts ...Option) (*Source, error) {
	o := options{kinds: Any}
	for _, opt := range opts {
		opt(&o)
	}
	if o.store == nil {
		o.kinds &^= Installed
	}
	s, err := resolve(ctx, arg, &o)
	if err != nil {
		return nil, err
	}
	if o.nocheck {
		if s.Config == nil {
			if s.Config, err = plugin.Parse(s.Raw); err != nil {
				s.Config = &plugin.Config{}
			}
		}
		return s, nil
	}
	aud := validate.Consumer
	if o.authored&s.Kind != 0 {
		aud = validate.Author
	}
	if err := s.check(append([]validate.Option{validate.WithAudience(aud)}, o.validate...)); err != nil {
		return nil, err
	}
	for _, d := range s.Warnings {
		if o.log != nil {
			o.log.Warn(d.String())
		}
	}
	return s, nil
}

func resolve(ctx context.Context, arg string, o *options) (*Source, error) {
	notFound := &NotFoundError{Arg: arg, Kinds: o.kinds, Path: looksLikePath(arg)}
	if arg == "" {
		notFound.Why = "is empty"
		return nil, notFound
	}
	fi, statErr := os.Stat(arg)
	if statErr == nil && fi.IsDir() {
		notFound.Path = true
		cfgInfo, cfgErr := os.Lstat(filepath.Join(arg, validate.ConfigFile))
		switch {
		case cfgErr == nil && o.kinds&Dir != 0:
			return openDir(arg, cfgInfo)
		case isFile(filepath.Join(arg, "oci-layout")) && o.kinds&Layout != 0:
			p, err := pack.ReadLayout(arg, o.pack...)
			if err != nil {
				return nil, err
			}
			return artifact(ctx, Layout, arg, dirName(arg), "", p)
		}
		notFound.Why = "is not a " + o.kinds.String()
		if o.kinds&^(Dir|Layout) != 0 {
			notFound.Why = "is neither a plugin dir (config.json + rootfs/) nor an OCI layout"
		}
		return nil, notFound
	}
	if statErr == nil {
		notFound.Path = true
		notFound.Why = "is a file, not a " + o.kinds.String()
		return nil, notFound
	}
	if notFound.Path {
		return nil, notFound
	}
	if o.kinds&Installed != 0 {
		st, err := o.store()
		if err != nil {
			return nil, err
		}
		p, err := st.Get(arg)
		switch {
		case err == nil:
			return installed(arg, p), nil
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		case o.kinds&Registry == 0:
			return nil, err
		}
	}
	if o.kinds&Registry == 0 {
		return nil, notFound
	}
	if err := pack.ParseReference(arg, o.pack...); err != nil {
		notFound.Why = fmt.Sprintf("is not a reference (%v)", err)
		return nil, notFound
	}
	ref, err := reference.ParseNormalizedNamed(arg)
	if err != nil {
		notFound.Why = fmt.Sprintf("is not a reference (%v)", err)
		return nil, notFound
	}
	p, err := pack.Fetch(ctx, arg, o.pack...)
	if err != nil {
		return nil, err
	}
	return artifact(ctx, Registry, arg, LocalName(ref), reference.TagNameOnly(ref).String(), p)
}

func openDir(dir string, cfgInfo fs.FileInfo) (*Source, error) {
	cfgPath := filepath.Join(dir, validate.ConfigFile)
	if !cfgInfo.Mode().IsRegular() {
		return nil, &NotFoundError{Arg: dir, Kinds: Dir, Path: true,
			Why: fmt.Sprintf("has a %s that is not a regular file (%s)", validate.ConfigFile, cfgInfo.Mode().Type())}
	}
	rootfs := filepath.Join(dir, "rootfs")
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return nil, &NotFoundError{Arg: dir, Kinds: Dir, Path: true,
			Why: "has config.json but no rootfs/ directory (a plugin dir holds both; the rootfs is the plugin's filesystem)"}
	}
	data, err := readRegular(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("reading plugin config: %w", err)
	}
	abs, err := filepath.Abs(rootfs)
	if err != nil {
		return nil, err
	}
	return &Source{Kind: Dir, Arg: dir, Name: dirName(dir), Raw: data, Rootfs: abs}, nil
}

// readRegular reads a file that must stay a regular file: opened without
// blocking (a FIFO put in its place cannot hang the read) and checked
// after opening.
func readRegular(path string) ([]byte, error) {
	f, err := openNonblock(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	const maxConfig = 16 << 20
	data, err := io.ReadAll(io.LimitReader(f, maxConfig+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfig {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxConfig)
	}
	return data, nil
}

func installed(arg string, p *store.Plugin) *Source {
	cfg := p.Config
	cfg.Rootfs = nil
	data, _ := cfg.Marshal()
	return &Source{Kind: Installed, Arg: arg, Name: p.FullName(), Reference: p.PluginReference,
		Raw: data, Config: &p.Config, Rootfs: p.Rootfs(), Stored: p}
}

func artifact(ctx context.Context, k Kind, arg, name, ref string, p *pack.Plugin) (*Source, error) {
	data, err := p.ConfigJSON(ctx)
	if err != nil {
		return nil, err
	}
	return &Source{Kind: k, Arg: arg, Name: name, Reference: ref, Raw: data, Artifact: p}, nil
}

// check validates the config the same way for every kind.
func (s *Source) check(vopts []validate.Option) error {
	name := s.Arg
	switch s.Kind {
	case Dir:
		name = filepath.Join(s.Arg, validate.ConfigFile)
	case Layout, Registry:
		name = s.Arg + " (config blob)"
	case Installed:
		name = s.Name + " (installed config)"
	}
	diags := validate.Bytes(name, s.Raw, append([]validate.Option{validate.WithKind(validate.KindConfig)}, vopts...)...)
	var keep []validate.Diagnostic
	for _, d := range diags {
		// An artifact's config carries the rootfs and engine version the
		// pusher filled in: expected there, not a finding.
		if d.Rule == "DP108" && s.Kind != Dir {
			continue
		}
		keep = append(keep, d)
	}
	_, s.Warnings = validate.Split(keep)
	if err := validate.NewConfigError(name, keep); err != nil {
		return fmt.Errorf("%s: %w", s.Arg, err)
	}
	if s.Config == nil {
		cfg, err := plugin.Parse(s.Raw)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s.Config = cfg
	}
	return nil
}

// LocalName is the store name for a registry reference: its familiar name
// and tag (a digest-only reference gets :latest, as names cannot hold
// digests).
func LocalName(ref reference.Named) string {
	name := reference.FamiliarName(ref)
	if t, ok := ref.(reference.Tagged); ok {
		return name + ":" + t.Tag()
	}
	return name + ":latest"
}

func looksLikePath(arg string) bool {
	return strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../") || strings.HasPrefix(arg, "/") ||
		strings.HasPrefix(arg, "~") || arg == "." || arg == ".."
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// dirName is the plugin name a directory source gets: its base name,
// lowercased (names cannot hold capitals).
func dirName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	return strings.ToLower(filepath.Base(abs))
}
