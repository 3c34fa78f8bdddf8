package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

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
		RunE:  func(cmd *cobra.Command, _ []string) error { return runDoctor(cmd.Context(), g, fix) },
	}
	cmd.Flags().BoolVar(&fix, "fix", false, "rebuild a damaged inventory, delete orphans of removed plugins, move other unlisted dirs to lost+found, drop entries with no dir, rewrite stale settings, stop leftover runs, remove killed pulls' temp dirs")
	return cmd
}

// runDoctor checks (and with fix repairs) the store and the runs, prints
// the report, and fails when problems remain unfixed.
func runDoctor(ctx context.Context, g *globalOptions, fix bool) error {
	s, err := openStore(g)
	if err != nil {
		return err
	}
	r, err := s.Doctor(fix)
	if r == nil {
		return err
	}
	runs, rerr := doctorRuns(ctx, g, fix)
	if rerr != nil {
		return rerr
	}
	pulls, perrs := doctorPulls(g, fix && !r.ReadOnly)
	if g.outputJSON() {
		if jerr := writeJSON(g.stdout, struct {
			*store.Report
			Runs  []run.Leftover `json:"Runs"`
			Pulls []string       `json:"Pulls"`
		}{r, runs, pulls}); jerr != nil {
			return jerr
		}
	} else {
		printDoctor(g, s, r, fix)
		printRunLeftovers(g.stdout, runs)
		printPulls(g, pulls, perrs, fix && !r.ReadOnly)
		if len(runs) == 0 && len(pulls) == 0 && storeClean(r) {
			fmt.Fprintf(g.stderr, "store %s is consistent\n", g.Root)
		}
	}
	if err != nil {
		return err
	}
	problems := len(r.Orphans) + len(r.Missing) + len(r.Resynced) + len(runs)
	if !fix {
		problems += len(pulls)
	}
	if r.Damaged != "" {
		problems++
	}
	if !fix && problems > 0 {
		return &exitError{Code: ExitFailure, Err: errors.New("store has problems; run 'dplug doctor --fix' to repair them")}
	}
	return nil
}

// storeClean reports whether doctor found nothing to say about the store.
func storeClean(r *store.Report) bool {
	return len(r.Removed)+len(r.Leftovers)+len(r.Orphans)+len(r.Missing)+len(r.Resynced)+len(r.MovedAside) == 0 && r.Damaged == ""
}

// printDoctor prints a doctor report, one line per finding.
func printDoctor(g *globalOptions, s *store.Store, r *store.Report, fix bool) {
	w := g.stdout
	for _, p := range r.Removed {
		fmt.Fprintf(w, "removed leftover %s\n", p)
	}
	for _, p := range r.Leftovers {
		fmt.Fprintf(w, "found leftover %s (store is read-only: not removed)\n", p)
	}
	if r.Damaged != "" {
		fmt.Fprintf(w, "damaged inventory %s: %s\n", filepath.Join(s.Dir(), "plugins.json"), r.Damaged)
		verb := map[bool]string{false: "found", true: "recovered"}[fix]
		for _, p := range r.Recovered {
			state := "disabled"
			if p.Enabled {
				state = "enabled"
			}
			from := "name and state from plugins.json.bak"
			if p.From != "plugins.json.bak" {
				from = "not in plugins.json.bak: name derived from the ID"
			}
			note := ""
			if p.Note != "" {
				note = "; " + p.Note
			}
			fmt.Fprintf(w, "%s plugin %s (%s, %s; %s%s)\n", verb, p.Name, p.ID[:12], state, from, note)
		}
	}
	for _, p := range r.Deleted {
		fmt.Fprintf(w, "%s orphan dir %s (its plugin was removed by an interrupted command)\n", map[bool]string{false: "found", true: "deleted"}[fix], p)
	}
	for _, m := range r.MovedAside {
		if fix {
			fmt.Fprintf(w, "moved %s to %s (%s)\n", m.From, m.To, m.Reason)
		} else {
			fmt.Fprintf(w, "found %s (%s): --fix moves it to %s\n", m.From, m.Reason, m.To)
		}
	}
	verb := map[bool]string{false: "found", true: "removed"}[fix]
	for _, p := range r.Missing {
		fmt.Fprintf(w, "%s inventory entry with no dir: %s\n", verb, p)
	}
	for _, p := range r.Resynced {
		fmt.Fprintf(w, "%s stale settings file %s\n", map[bool]string{false: "found", true: "rewrote"}[fix], p)
	}
}
