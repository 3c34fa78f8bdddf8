package cli

import (
	"fmt"

	"github.com/dplug/dplug/store"
)

// openStore opens the plugin store under --root. A store that cannot be
// opened is an IO error (exit 2) that names the setting to check.
func openStore(g *globalOptions) (*store.Store, error) {
	s, err := store.Open(g.Root, store.WithLogger(g.log))
	if err != nil {
		return nil, usageError(fmt.Errorf("%w (check --root or DPLUG_ROOT)", err))
	}
	return s, nil
}
