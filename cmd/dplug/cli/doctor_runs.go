package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dplug/dplug/run"
)

// doctorRuns is doctor's part for runs: the runs under ROOT/run that
// nobody will stop (a foreground `dplug run` killed, a detached plugin that
// exited), stopped and removed with fix. printRunLeftovers says what was
// found.
func doctorRuns(ctx context.Context, g *globalOptions, fix bool) ([]run.Leftover, error) {
	runs, err := run.Doctor(ctx, fix, run.WithRunRoot(runRoot(g)), run.WithLogger(g.log))
	if errors.Is(err, os.ErrPermission) && len(runs) == 0 {
		g.log.Warn("cannot check the runs of this store: that needs the user that ran them (root)", "err", err)
		return nil, nil
	}
	if err != nil {
		return runs, fmt.Errorf("checking runs under %s: %w", runRoot(g), err)
	}
	return runs, nil
}

func printRunLeftovers(w io.Writer, runs []run.Leftover) {
	for _, l := range runs {
		what := l.Name
		if what == "" {
			what = l.Dir
		}
		verb := "found"
		if l.Fixed {
			verb = "stopped and removed"
		}
		fmt.Fprintf(w, "%s leftover run of %s: %s\n", verb, what, l.Reason)
	}
}
