package dest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
)

// Store installs the plugin into dplug's local plugin store (the one at
// Root, or Opened when set) under Name[:TAG], the source's name when Name
// is "".
//
// With Install nil it installs like `docker plugin create` (dplug build
// -t): disabled, its privileges granted, replacing a disabled plugin of
// the same name (the edit-build loop); an enabled one is an error, since
// its files are in use. Install says otherwise (dplug install: a name
// taken is an error, settings, a privilege prompt).
type Store struct {
	Root    string
	Opened  *store.Store
	Name    string
	Options []store.Option
	Install *store.InstallOptions
	// Grant, if set, replaces Install's: it is shown the privileges the
	// plugin requests with the name a prompt gives it, like docker's: the
	// reference for a registry plugin, else the name it gets.
	Grant func(name string, privs []store.Privilege) error
	// Installed, if set, is given the plugin installed.
	Installed func(*store.Plugin)
}

var (
	_ Dest    = (*Store)(nil)
	_ Stepper = (*Store)(nil)
)

func (d *Store) String() string { return "plugin store " + d.Name }

// Step names the delivery step.
func (d *Store) Step() string { return "install into the plugin store as " + d.Name }

// Deliver installs src and returns the plugin's NAME:TAG.
func (d *Store) Deliver(ctx context.Context, src *source.Source) (string, error) {
	s := d.Opened
	if s == nil {
		var err error
		if s, err = store.Open(d.Root, d.Options...); err != nil {
			return "", err
		}
	}
	opts, err := d.options(s, src)
	if err != nil {
		return "", err
	}
	p, err := s.Install(ctx, src, opts)
	if err != nil {
		return "", installError(err, opts)
	}
	if d.Installed != nil {
		d.Installed(p)
	}
	return p.FullName(), nil
}

// options are the store's options for installing src.
func (d *Store) options(s *store.Store, src *source.Source) (store.InstallOptions, error) {
	if d.Install != nil {
		opts := *d.Install
		if opts.Name == "" {
			opts.Name = d.Name
		}
		if opts.Name == "" {
			opts.Name, opts.Reference = src.Name, src.Reference
		}
		if opts.Alias == "" && opts.Reference == "" {
			if _, _, err := store.ParseName(opts.Name); err != nil {
				return opts, &InputError{fmt.Errorf("%s does not make a valid plugin name (%w): name it with --alias NAME", src.Arg, err)}
			}
		}
		if d.Grant != nil {
			shown := opts.Name
			switch {
			case opts.Reference != "":
				shown = src.Arg
			case opts.Alias != "":
				shown = opts.Alias
			}
			opts.Grant = func(privs []store.Privilege) error { return d.Grant(shown, privs) }
		}
		return opts, nil
	}
	old, err := s.Get(d.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return store.InstallOptions{}, err
	case old.Enabled:
		return store.InstallOptions{}, fmt.Errorf("replacing %s: it is enabled; `dplug disable %s` first", old.FullName(), old.FullName())
	}
	// Replace swaps the old plugin for the new one in one atomic inventory
	// write: a kill at any moment leaves one of the two installed.
	return store.InstallOptions{
		Name:     d.Name,
		Disabled: true,
		Replace:  true,
		Grant:    store.GrantAll, // the author builds it: like docker plugin create, no prompt
	}, nil
}

// installError says what to do when the name is taken.
func installError(err error, opts store.InstallOptions) error {
	if !errors.Is(err, store.ErrExists) {
		return err
	}
	taken := opts.Name
	if opts.Alias != "" {
		taken = opts.Alias
	}
	if n, t, perr := store.ParseName(taken); perr == nil {
		taken = n + ":" + t
	}
	return fmt.Errorf("%w: remove it first (`dplug rm %s`) or install under another name with --alias NAME", err, taken)
}

// CheckSettings checks the KEY=VALUE settings a plugin is to be delivered
// with (Store's Install.Settings, Engine's engine.WithSettings) before any
// work: one without "=" is an *InputError.
func CheckSettings(settings []string) error {
	for _, s := range settings {
		if !strings.Contains(s, "=") {
			return &InputError{fmt.Errorf("setting %q: want KEY=VALUE", s)}
		}
	}
	return nil
}

// Engine loads the plugin into a running Docker Engine as Name (the
// source's name when "") and enables it (engine.Load: a plugin of that
// name is replaced, its settings carried over). Host names the engine
// (default: DOCKER_HOST, then the docker context).
type Engine struct {
	Name    string
	Host    string
	Options []engine.LoadOption
	// Grant, if set, is shown the privileges a plugin from a registry or a
	// layout requests, with its argument as the name, before the engine is
	// asked anything (a plugin dir or an installed plugin is the user's own,
	// loaded like `docker plugin create` loads it).
	Grant func(name string, privs []store.Privilege) error
	// Loaded, if set, is told what the engine did.
	Loaded func(*engine.Loaded)
}

var (
	_ Dest    = (*Engine)(nil)
	_ Stepper = (*Engine)(nil)
)

func (d *Engine) String() string { return "Docker Engine plugin " + d.Name }

// Step names the delivery step.
func (d *Engine) Step() string { return "load into the Docker Engine as " + d.Name }

// Deliver streams src into the engine and returns the plugin's name there.
func (d *Engine) Deliver(ctx context.Context, src *source.Source) (string, error) {
	name := d.Name
	if name == "" {
		name = src.Name
	}
	if _, err := engine.Name(name); err != nil {
		return "", &InputError{fmt.Errorf("%w: name it with --alias NAME", err)}
	}
	if d.Grant != nil && src.Kind&(source.Registry|source.Layout) != 0 {
		if err := d.Grant(src.Arg, store.Privileges(src.Config)); err != nil {
			return "", err
		}
	}
	e, err := engine.Connect(ctx, engine.WithHost(d.Host))
	if err != nil {
		return "", err
	}
	defer e.Close()
	res, err := e.Load(ctx, src, name, d.Options...)
	if err != nil {
		return "", err
	}
	if d.Loaded != nil {
		d.Loaded(res)
	}
	return res.Name, nil
}
