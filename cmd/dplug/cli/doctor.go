package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/store"
	"github.com/spf13/cobra"
)

func newDoctorCmd(g *globalOptions) *cobra.Command {
	var fix bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the plugin store and clean up after interrupted commands",
		Long:  help("doctor"),
		Args:  withUsage(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runDoctor(cmd, g, fix) },
	}
	cmd.Flags().BoolVar(&fix, "fix", false, "rebuild a damaged inventory, delete orphans of removed plugins, move other unlisted dirs to lost+found, drop entries with no dir, rewrite stale settings, stop leftover runs, remove killed pulls' temp dirs")
	return cmd
}

// runDoctor checks (and with fix repairs) the store, the runs and the temp
// dirs of killed pulls, prints the report, and fails when problems remain.
func runDoctor(cmd *cobra.Command, g *globalOptions, fix bool) error {
	s, err := openStore(g)
	if err != nil {
		return err
	}
	r, err := s.Doctor(fix)
	if r == nil {
		return err
	}
	runs, rerr := doctorRuns(cmd.Context(), g, fix)
	if rerr != nil {
		return rerr
	}
	fixPulls := fix && !r.ReadOnly
	pulls, perrs := pack.RecordedStalePulls(pullsDir(g), fixPulls)
	if g.outputJSON() {
		if jerr := output.JSON(g.stdout, struct {
			*store.Report
			Runs  []run.Leftover `json:"Runs"`
			Pulls []string       `json:"Pulls"`
		}{r, runs, pulls}); jerr != nil {
			return jerr
		}
	} else {
		r.WriteText(g.stdout, s.Dir(), fix)
		for _, l := range runs {
			fmt.Fprintln(g.stdout, l)
		}
		for _, p := range pulls {
			fmt.Fprintf(g.stdout, "%s the temp dir of an interrupted pull %s%s\n",
				map[bool]string{false: "found", true: "removed"}[fixPulls], p, map[bool]string{false: " (--fix removes it)"}[fixPulls])
		}
		for _, err := range perrs {
			fmt.Fprintf(g.stderr, "dplug: warning: %v\n", err)
		}
		if len(runs) == 0 && len(pulls) == 0 && r.Clean() {
			fmt.Fprintf(g.stderr, "store %s is consistent\n", g.Root)
		}
	}
	if err != nil {
		return err
	}
	if !fix && r.Problems()+len(runs)+len(pulls) > 0 {
		return &exitError{Code: ExitFailure, Err: errors.New("store has problems; run 'dplug doctor --fix' to repair them")}
	}
	return nil
}

// doctorRuns is doctor's part for runs: the runs under ROOT/run that
// nobody will stop (a foreground `dplug run` killed, a detached plugin that
// exited), stopped and removed with fix; each says what it found.
func doctorRuns(ctx context.Context, g *globalOptions, fix bool) ([]run.Leftover, error) {
	runs, err := run.Doctor(ctx, fix, runOpts(g)...)
	if errors.Is(err, os.ErrPermission) && len(runs) == 0 {
		g.log.Warn("cannot check the runs of this store: that needs the user that ran them (root)", "err", err)
		return nil, nil
	}
	if err != nil {
		return runs, fmt.Errorf("checking runs under %s: %w", runRoot(g), err)
	}
	return runs, nil
}

// pullsDir is where pulls record the parent dirs they write into
// (pack.RecordPull), so that doctor finds the temp dirs killed pulls left.
func pullsDir(g *globalOptions) string { return filepath.Join(g.Root, "pulls") }

// recordPull records parent for doctor, best effort: a pull does not need a
// store, so a root it cannot write only costs doctor the cleanup.
func recordPull(g *globalOptions, parent string) {
	if err := pack.RecordPull(pullsDir(g), parent); err != nil {
		g.log.Debug("not recording the pull for doctor", "err", err)
	}
}
