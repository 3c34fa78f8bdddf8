package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/dplug/dplug/store"
)

// grant shows privileges like docker plugin install and asks y/N on a
// terminal.
func grant(g *globalOptions, all bool, name string, privs []store.Privilege) error {
	if len(privs) == 0 || all {
		return nil
	}
	f, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		var list []string
		for _, p := range privs {
			list = append(list, p.Name)
		}
		return fmt.Errorf("plugin %q requests privileges (%s) and there is no terminal to ask: "+
			"review them with 'dplug install' on a terminal, or pass --grant-all-permissions: %w",
			name, strings.Join(list, ", "), store.ErrNotGranted)
	}
	fmt.Fprintf(g.stderr, "Plugin %q is requesting the following privileges:\n", name)
	for _, p := range privs {
		fmt.Fprintf(g.stderr, " - %s: %v\n", p.Name, p.Value)
	}
	fmt.Fprint(g.stderr, "Do you grant the above permissions? [y/N] ")
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("plugin %q: %w", name, store.ErrNotGranted)
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
