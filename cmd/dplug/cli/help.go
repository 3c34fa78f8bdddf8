package cli

import (
	"embed"
	"strings"
)

// helpFiles holds the long help of the commands: help/NAME.txt is the Long
// text of the command path NAME ("buildkitd-start" for dplug buildkitd
// start), help/NAME.example.txt its Example.
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
