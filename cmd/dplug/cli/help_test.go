package cli

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpFiles checks that every help/*.txt is some command's Long or
// Example, so a renamed command cannot leave its help behind.
func TestHelpFiles(t *testing.T) {
	used := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		used[c.Long], used[c.Example] = true, true
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRoot(nil, new(bytes.Buffer), new(bytes.Buffer)))
	files, err := fs.Glob(helpFiles, "help/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "help/"), ".txt")
		if text := help(name); text == "" || !used[text] {
			t.Errorf("%s is empty or no command's Long or Example", f)
		}
	}
	if help("no-such-command") != "" {
		t.Error(`help("no-such-command") is not empty`)
	}
}
