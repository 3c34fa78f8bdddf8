package cli

import (
	"fmt"

	"github.com/spf13/cobra"

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

// withStore is the RunE of a command that works on the plugin store: fn
// runs with the store openStore opened (a store that cannot be opened is
// openStore's error).
func withStore(g *globalOptions, fn func(cmd *cobra.Command, s *store.Store, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, err := openStore(g)
		if err != nil {
			return err
		}
		return fn(cmd, s, args)
	}
}
