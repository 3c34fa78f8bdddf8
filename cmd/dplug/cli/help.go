package cli

import (
	"embed"
	"strings"

	"github.com/spf13/cobra"
)

// helpFiles holds the long help of the commands: help/NAME.txt is the Long
// text of the command path NAME ("buildkitd-start" for dplug buildkitd
// start, "dplug" for dplug itself), help/NAME.example.txt its Example.
//
//go:embed help/*.txt
var helpFiles embed.FS

// help returns help/NAME.txt without its leading and trailing newlines
// (an example's indentation stays), or "" when there is none;
// TestHelpFiles checks that every file is used.
func help(name string) string {
	b, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		return ""
	}
	return strings.Trim(string(b), "\n")
}

// setHelp gives c and its subcommands the Long and Example of their help
// files, where the constructor set none.
func setHelp(c *cobra.Command) {
	name := strings.ReplaceAll(strings.TrimPrefix(c.CommandPath(), "dplug "), " ", "-")
	if c.Long == "" {
		c.Long = help(name)
	}
	if c.Example == "" {
		c.Example = help(name + ".example")
	}
	for _, sub := range c.Commands() {
		setHelp(sub)
	}
}
