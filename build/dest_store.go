package build

import (
	"context"
	"errors"
	"fmt"

	"github.com/dplug/dplug/store"
)

// Store installs the plugin into dplug's local plugin store under Root with
// the name Name[:TAG], disabled, like `docker plugin create`. A disabled
// plugin of the same name is replaced (the edit-build loop); an enabled one
// is an error, since its files are in use.
type Store struct {
	Root    string
	Name    string
	Options []store.Option
}

var _ Dest = (*Store)(nil)

func (d *Store) String() string { return "plugin store " + d.Name }

// Deliver installs dir and returns the plugin's NAME:TAG.
func (d *Store) Deliver(ctx context.Context, dir string) (string, error) {
	var st *step
	if s := stepsFrom(ctx); s != nil {
		st = s.start("[dplug] install into the plugin store as " + d.Name)
	}
	out, err := d.deliver(ctx, dir)
	if st != nil {
		st.done(err)
	}
	return out, err
}

func (d *Store) deliver(ctx context.Context, dir string) (string, error) {
	s, err := store.Open(d.Root, d.Options...)
	if err != nil {
		return "", err
	}
	old, err := s.Get(d.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", err
	case old.Enabled:
		return "", fmt.Errorf("replacing %s: it is enabled; `dplug disable %s` first", old.FullName(), old.FullName())
	}
	// Replace swaps the old plugin for the new one in one atomic inventory
	// write: a kill at any moment leaves one of the two installed.
	p, err := s.Install(ctx, store.DirSource(dir), store.InstallOptions{
		Name:     d.Name,
		Disabled: true,
		Replace:  true,
		Grant:    store.GrantAll, // the author builds it: like docker plugin create, no prompt
	})
	if err != nil {
		return "", err
	}
	return p.FullName(), nil
}
