package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Prompt asks whether to grant privs to the plugin a prompt calls name, as
// docker plugin install does: it lists them on out and reads y/N from in,
// which must be a terminal. With nothing to grant it returns nil; with no
// terminal to ask it refuses, naming the privileges and how to grant them.
// A refusal wraps ErrNotGranted.
func Prompt(in io.Reader, out io.Writer, name string, privs []Privilege) error {
	if len(privs) == 0 {
		return nil
	}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		var list []string
		for _, p := range privs {
			list = append(list, p.Name)
		}
		return fmt.Errorf("plugin %q requests privileges (%s) and there is no terminal to ask: "+
			"review them with 'dplug install' on a terminal, or pass --grant-all-permissions: %w",
			name, strings.Join(list, ", "), ErrNotGranted)
	}
	return ask(f, out, name, privs)
}

// ask is Prompt's question on a terminal: y or yes grants.
func ask(in io.Reader, out io.Writer, name string, privs []Privilege) error {
	fmt.Fprintf(out, "Plugin %q is requesting the following privileges:\n", name)
	for _, p := range privs {
		fmt.Fprintf(out, " - %s: %v\n", p.Name, p.Value)
	}
	fmt.Fprint(out, "Do you grant the above permissions? [y/N] ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("plugin %q: %w", name, ErrNotGranted)
}
