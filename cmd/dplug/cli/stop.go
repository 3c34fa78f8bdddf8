package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/harness"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
)

func newStopCmd(g *globalOptions) *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "stop NAME|DIR",
		Short: "Stop a plugin started with 'dplug run --detach' and remove what its run made",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			inst, err := loadRun(g, args[0], "")
			if err != nil {
				return err
			}
			return inst.Stop(cmd.Context(), grace)
		},
	}
	addGrace(cmd.Flags(), &grace)
	return cmd
}

// loadRun finds the run of the plugin NAME|DIR started by another dplug
// process (stop, logs); a plugin that is not running is a failure (exit 1)
// whose message ends with note.
func loadRun(g *globalOptions, arg, note string) (*run.Instance, error) {
	src, err := openSource(context.Background(), g, arg, source.WithKinds(source.Dir|source.Installed), source.Unchecked())
	if err != nil {
		return nil, err
	}
	inst, err := harness.Attach(src, runOpts(g)...)
	if errors.Is(err, run.ErrNotRunning) {
		return nil, fmt.Errorf("%w%s", err, note)
	}
	return inst, err
}
