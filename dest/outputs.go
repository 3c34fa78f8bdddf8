package dest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/store"
)

// Outputs are the destinations of a build as `dplug build` names them.
type Outputs struct {
	// Outputs are dir=PATH, oci=PATH, or buildx's type=local|oci,dest=PATH;
	// json and text say how to print the result (Format).
	Outputs []string
	// Push is a registry reference.
	Push string
	// Tags has at most one NAME[:TAG]: the plugin in the local store under
	// Root, or in the Docker Engine with Load.
	Tags []string
	Load bool
	Root string
	// Platforms is how many platforms are built.
	Platforms int
	// Insecure allows plain HTTP and unverified TLS for Push; Index also
	// pushes a manifest list at Push for several platforms.
	Insecure, Index bool
	// Pack are more options of the OCI layout and registry destinations,
	// after Insecure, Index and the layer cache under Root (LayerCache:
	// an export rewrites every file, so the cache is content-verified).
	Pack []pack.Option
}

// Dest checks the outputs and returns their destination (All of them).
func (o Outputs) Dest() (Dest, error) {
	o.Pack = append([]pack.Option{pack.WithInsecure(o.Insecure), pack.WithIndex(o.Index),
		pack.WithCache(LayerCache(o.Root))}, o.Pack...)
	var dests []Dest
	for _, out := range o.Outputs {
		if out == "json" || out == "text" {
			continue
		}
		d, err := ParseOutput(out, o.Pack)
		if err != nil {
			return nil, err
		}
		dests = append(dests, d)
	}
	if o.Push != "" {
		// Bad names fail now, not after the build.
		if err := pack.ParseReference(o.Push, o.Pack...); err != nil {
			return nil, fmt.Errorf("--push %s: %w", o.Push, err)
		}
		dests = append(dests, &Registry{Ref: o.Push, Options: o.Pack})
	}
	switch {
	case len(o.Tags) > 1:
		return nil, errors.New("one -t NAME per build")
	case len(o.Tags) == 0 && o.Load:
		return nil, errors.New("--load needs -t NAME: the plugin's name in the Docker Engine")
	case len(o.Tags) == 1:
		if _, _, err := store.ParseName(o.Tags[0]); err != nil {
			return nil, fmt.Errorf("-t %s: %w", o.Tags[0], err)
		}
		var d Dest = &Store{Root: o.Root, Name: o.Tags[0]}
		if o.Load {
			d = &Engine{Name: o.Tags[0]}
		}
		dests = append([]Dest{d}, dests...)
		if o.Load && o.Platforms > 1 {
			return nil, errors.New("--load takes one --platform: a Docker Engine runs plugins of its own platform")
		}
	}
	if len(dests) == 0 {
		return nil, errors.New("no destination: give -t NAME, --output dir=PATH, --output oci=PATH or --push REF")
	}
	return All(dests...)
}

// Format is the last of the outputs json and text, or "".
func (o Outputs) Format() string {
	f := ""
	for _, out := range o.Outputs {
		if out == "json" || out == "text" {
			f = out
		}
	}
	return f
}

// ParseOutput reads dir=PATH, oci=PATH, or buildx's type=local|oci,dest=PATH.
func ParseOutput(s string, packOpts []pack.Option) (Dest, error) {
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
		return &Dir{Path: path}, nil
	case "oci":
		return &OCILayout{Path: path, Options: packOpts}, nil
	}
	return nil, fmt.Errorf("invalid --output %q: type must be dir (local) or oci", s)
}
