package cli

import "github.com/dplug/dplug/store"

// grant shows privileges like docker plugin install and asks y/N on a
// terminal (store.Prompt), unless --grant-all-permissions grants them all.
func grant(g *globalOptions, all bool, name string, privs []store.Privilege) error {
	if all {
		return nil
	}
	return store.Prompt(g.stdin, g.stderr, name, privs)
}
