package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// withUsage wraps a cobra positional-args validator so that its failures exit
// with exitcode.Usage.
func withUsage(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

// isUsage recognises the plain errors cobra itself returns for a mistyped
// command line.
func isUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag")
}
