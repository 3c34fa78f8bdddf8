package cli

import (
	"github.com/dplug/dplug/store"
	"github.com/spf13/cobra"
)

func newDisableCmd(g *globalOptions) *cobra.Command {
	return newFlagCmd(g, "disable", "Mark an installed plugin disabled (needed before set)", (*store.Store).Disable)
}
