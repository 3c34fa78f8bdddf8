package scaffold

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	modpath "golang.org/x/mod/module"

	"github.com/dplug/dplug/internal/exitcode"
	"github.com/dplug/dplug/plugin"
)

//go:embed all:templates
var templates embed.FS

// HelpersVersion is the github.com/docker/go-plugins-helpers version a
// generated go.mod requires: the one dplug itself is tested with.
const HelpersVersion = "v0.0.0-20240701071450-45e2431495c8"

// GoVersion is the go directive of a generated go.mod.
const GoVersion = "1.26.0"

// module is one requirement of a generated go.mod.
type module struct{ Path, Version string }

// indirect are the modules go-plugins-helpers needs, at the versions dplug
// builds with; a generated go.mod pins them, and so does the Dockerfile when
// it has to make a go.mod (templates/common/go.sum.tmpl has their sums).
var indirect = []module{
	{"github.com/Microsoft/go-winio", "v0.6.3-0.20251027160822-ad3df93bed29"},
	{"github.com/coreos/go-systemd", "v0.0.0-20191104093116-d3cd4ed1dbcf"},
	{"github.com/docker/go-connections", "v0.7.0"},
	{"golang.org/x/sys", "v0.49.0"},
}

// kind describes one plugin type Init can generate.
type kind struct {
	iface       string // config.json interface type
	helper      string // go-plugins-helpers package
	description string // default description
}

var kinds = map[string]kind{
	"volume":  {plugin.TypeVolume, "volume", "Directory-backed volume driver"},
	"authz":   {plugin.TypeAuthz, "authorization", "Authorization plugin with a regular-expression policy from plugin settings"},
	"ipam":    {plugin.TypeIPAM, "ipam", "IPAM driver with a simple IPv4 pool allocator"},
	"log":     {plugin.TypeLog, "sdk", "Logging driver that copies container logs to its own output"},
	"network": {plugin.TypeNetwork, "network", "Network driver skeleton that tracks networks and endpoints"},
}

// Types returns the plugin types Render accepts, in the order help lists them.
func Types() []string { return []string{"volume", "authz", "ipam", "log", "network"} }

// ErrUnknownType is returned for a type not in Types.
var ErrUnknownType = errors.New("unknown plugin type")

// ExistsError is returned by Write when files it would create already exist
// and WithForce was not given; nothing has been written.
type ExistsError struct {
	Paths []string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("refusing to overwrite %s (use --force)", strings.Join(e.Paths, ", "))
}

// InputError is a type, name or module path Render and Write cannot use:
// the caller's mistake (a usage error for the CLI), not a failure to write.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ExitClass makes an *InputError a usage error for the CLI
// (exitcode.Classed).
func (e *InputError) ExitClass() int { return exitcode.Usage }

// DirName is the plugin name a project in dir gets when none is given: the
// directory's base name in lower case. A base name that cannot name a
// plugin is an *InputError.
func DirName(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", &InputError{Err: err}
	}
	name := strings.ToLower(filepath.Base(abs))
	if err := ValidName(name); err != nil {
		return "", &InputError{Err: fmt.Errorf("%w; choose one with --name", err)}
	}
	return name, nil
}

// File is one generated file, its Path slash-separated and relative to the
// project directory.
type File struct {
	Path string
	Data []byte
}

// Option configures Render and Write.
type Option func(*options)

type options struct {
	name, module, description, documentation string
	moduleFiles                              bool
	force                                    bool
}

// WithName sets the plugin's name: its binary (/NAME in the rootfs) and
// socket (NAME.sock). Default: example-TYPE.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithModule sets the Go module path of the project. Default:
// example.com/NAME.
func WithModule(path string) Option { return func(o *options) { o.module = path } }

// WithDescription sets config.json's description. Default: one line per type.
func WithDescription(s string) Option { return func(o *options) { o.description = s } }

// WithDocumentation sets config.json's documentation URL. Default:
// https://MODULE.
func WithDocumentation(url string) Option { return func(o *options) { o.documentation = url } }

// WithModuleFiles controls whether go.mod and go.sum are generated (default
// true). dplug's own examples live inside dplug's module and have none.
func WithModuleFiles(on bool) Option { return func(o *options) { o.moduleFiles = on } }

// WithForce lets Write overwrite existing files.
func WithForce(on bool) Option { return func(o *options) { o.force = on } }

// Example returns the options dplug's examples/TYPE directory is rendered
// with: a project inside dplug's module, documented at its GitHub page.
func Example(typ string) []Option {
	mod := "github.com/dplug/dplug/examples/" + typ
	return []Option{
		WithName("example-" + typ),
		WithModule(mod),
		WithDocumentation("https://github.com/dplug/dplug/tree/main/examples/" + typ),
		WithModuleFiles(false),
	}
}

// nameRE is what a plugin name may look like: it names a file and a socket,
// and reads well in a registry reference.
var nameRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ValidName reports whether name can name a plugin's binary and socket.
func ValidName(name string) error {
	if len(name) > 64 || !nameRE.MatchString(name) {
		return fmt.Errorf("invalid plugin name %q: use lower-case letters, digits and single '.', '_' or '-' between them", name)
	}
	return nil
}

// data is what the templates see.
type data struct {
	Type, Name, Module, Description, Documentation string
	Interface, Helper                              string
	HelpersVersion, GoVersion                      string
	Indirect                                       []module
}

func makeData(typ string, opts []Option) (data, options, error) {
	k, ok := kinds[typ]
	if !ok {
		return data{}, options{}, fmt.Errorf("%w %q: use one of %s", ErrUnknownType, typ, strings.Join(Types(), ", "))
	}
	o := options{moduleFiles: true}
	for _, opt := range opts {
		opt(&o)
	}
	if o.name == "" {
		o.name = "example-" + typ
	}
	if err := ValidName(o.name); err != nil {
		return data{}, o, err
	}
	if o.module == "" {
		o.module = "example.com/" + o.name
	}
	if err := modpath.CheckPath(o.module); err != nil {
		return data{}, o, fmt.Errorf("invalid module path: %w", err)
	}
	if o.description == "" {
		o.description = k.description
	}
	if o.documentation == "" {
		o.documentation = "https://" + o.module
	}
	return data{
		Type: typ, Name: o.name, Module: o.module,
		Description: o.description, Documentation: o.documentation,
		Interface: k.iface, Helper: k.helper,
		HelpersVersion: HelpersVersion, GoVersion: GoVersion,
		Indirect: indirect,
	}, o, nil
}

// Render returns the files of a new plugin project of type typ (one of
// Types), sorted by path.
func Render(typ string, opts ...Option) ([]File, error) {
	d, o, err := makeData(typ, opts)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	t := template.New("").Option("missingkey=error").Funcs(template.FuncMap{
		"json": func(s string) (string, error) {
			b, err := json.Marshal(s)
			return string(b), err
		},
	})
	// Partials (files named _*) first, then the files: the type's own
	// override the common ones of the same name.
	byName := map[string]string{}
	for _, dir := range []string{"templates/common", "templates/" + typ} {
		entries, err := fs.ReadDir(templates, dir)
		if err != nil {
			return nil, fmt.Errorf("reading templates: %w", err)
		}
		for _, e := range entries {
			src, err := fs.ReadFile(templates, path.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("reading templates: %w", err)
			}
			if strings.HasPrefix(e.Name(), "_") {
				if _, err := t.New(e.Name()).Parse(string(src)); err != nil {
					return nil, fmt.Errorf("parsing template %s: %w", e.Name(), err)
				}
				continue
			}
			byName[strings.TrimSuffix(e.Name(), ".tmpl")] = string(src)
		}
	}
	var files []File
	for name, src := range byName {
		if !o.moduleFiles && (name == "go.mod" || name == "go.sum") {
			continue
		}
		ft, err := t.Clone()
		if err == nil {
			ft, err = ft.New(name).Parse(src)
		}
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := ft.Execute(&buf, d); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", name, err)
		}
		files = append(files, File{Path: name, Data: buf.Bytes()})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// Write renders a project of type typ into dir, creating dir if needed, and
// returns the paths it wrote. Unless WithForce is given it writes nothing
// when any of the files exists, and returns an *ExistsError.
func Write(dir, typ string, opts ...Option) ([]string, error) {
	files, err := Render(typ, opts...)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var exists []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if _, err := os.Lstat(p); err == nil {
			exists = append(exists, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checking %s: %w", p, err)
		}
	}
	if len(exists) > 0 && !o.force {
		return nil, &ExistsError{Paths: exists}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return written, fmt.Errorf("writing %s: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}
