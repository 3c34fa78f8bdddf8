package cli

import (
	"fmt"
	"strings"

	"github.com/dplug/dplug/store"
)

// grant shows privileges like docker plugin install and asks y/N on a
// terminal (store.Prompt), unless --grant-all-permissions grants them all.
func grant(g *globalOptions, all bool, name string, privs []store.Privilege) error {
	if all {
		return nil
	}
	return store.Prompt(g.stdin, g.stderr, name, privs)
}

// checkSettings checks KEY=VALUE arguments.
func checkSettings(settings []string) error {
	for _, s := range settings {
		if !strings.Contains(s, "=") {
			return usageError(fmt.Errorf("setting %q: want KEY=VALUE", s))
		}
	}
	return nil
}
