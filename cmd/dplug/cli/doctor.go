package cli

import (
	"github.com/spf13/cobra"

	"github.com/dplug/dplug/internal/doctor"
)

func newDoctorCmd(g *globalOptions) *cobra.Command {
	var fix bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the plugin store and clean up after interrupted commands",
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
	r, err := doctor.Check(cmd.Context(), s, fix, doctor.Paths{Runs: runRoot(g), Pulls: doctor.PullsDir(g.Root)}, g.log)
	if r == nil {
		return err
	}
	if werr := r.Write(g.stdout, g.stderr, g.Root, g.outputJSON()); werr != nil {
		return werr
	}
	if err != nil {
		return err // the store's own, after its report
	}
	return r.Err()
}
