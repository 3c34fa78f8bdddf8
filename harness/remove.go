package harness

import (
	"context"
	"errors"
	"fmt"

	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/store"
)

// Remove uninstalls the plugins named from s, like `docker plugin rm`,
// and returns the names it removed, in order, with errors.Join of the
// others' failures. A plugin's run is released first (run.Release: a
// running plugin is stopped only with force); an enabled plugin is removed
// only with force. A damaged inventory stops it and is its one error
// (store.ErrDamaged), not one per name. opts find the runs.
func Remove(ctx context.Context, s *store.Store, names []string, force bool, opts ...run.Option) ([]string, error) {
	var removed []string
	var errs []error
	for _, n := range names {
		if p, err := s.Get(n); err == nil { // else Remove reports it
			if err := run.Release(ctx, p.ID, p.FullName(), force, opts...); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		err := s.Remove(n, force)
		switch {
		case errors.Is(err, store.ErrDamaged):
			return removed, err
		case errors.Is(err, store.ErrEnabled):
			errs = append(errs, fmt.Errorf("%w (disable it first, or use --force)", err))
		case err != nil:
			errs = append(errs, err)
		default:
			removed = append(removed, n)
		}
	}
	return removed, errors.Join(errs...)
}
