package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/internal/doctor"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
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
	r, err := doctor.Check(cmd.Context(), s, fix, doctor.Paths{Runs: runRoot(g), Pulls: pullsDir(g)}, g.log)
	if r == nil {
		return err
	}
	if g.outputJSON() {
		if jerr := output.JSON(g.stdout, r); jerr != nil {
			return jerr
		}
	} else {
		r.WriteText(g.stdout, s.Dir())
		for _, err := range r.PullErrors {
			fmt.Fprintf(g.stderr, "dplug: warning: %v\n", err)
		}
		if r.Clean() {
			fmt.Fprintf(g.stderr, "store %s is consistent\n", g.Root)
		}
	}
	if err != nil {
		return err
	}
	if !fix && r.Problems() > 0 {
		return &exitError{Code: ExitFailure, Err: errors.New("store has problems; run 'dplug doctor --fix' to repair them")}
	}
	return nil
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
