// Package doctor checks a dplug root as a whole, for `dplug doctor`: the
// plugin store (store.Doctor), the runs under ROOT/run nobody will stop
// (run.Doctor) and the temp dirs killed pulls left (pack's pull records),
// and with fix repairs them. It prints nothing itself: the Report it
// returns writes itself, text or JSON (Report.Write).
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/store"
)

// Report is what Check found (and with fix repaired); as JSON, the
// store's report with Runs and Pulls added.
type Report struct {
	*store.Report
	Runs  []run.Leftover `json:"Runs"`
	Pulls []string       `json:"Pulls"`
	// PullErrors are the pull temp dirs that could not be checked or
	// removed: warnings, not problems.
	PullErrors []error `json:"-"`
	fix        bool
	fixPulls   bool
	dir        string // the store's Dir()
}

// ErrProblems is Report.Err's error: problems remain that fix would
// repair.
var ErrProblems = errors.New("store has problems; run 'dplug doctor --fix' to repair them")

// Paths are where Check looks besides the store.
type Paths struct {
	Runs  string // the run root (run.WithRunRoot)
	Pulls string // the pull records (pack.RecordPull): PullsDir(root)
}

// PullsDir is where the pulls of a dplug root record the parent dirs they
// write into (RecordPull), so that Check finds the temp dirs killed pulls
// left.
func PullsDir(root string) string { return filepath.Join(root, "pulls") }

// RecordPull records the parent of dir, where a pull into dir writes its
// temp dir, for the Check of root (pack.RecordPull under PullsDir). It is
// best effort: a pull does not need a store, so a root it cannot write
// only costs Check the cleanup, and the error is logged at debug level.
func RecordPull(root, dir string, log *slog.Logger) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = pack.RecordPull(PullsDir(root), filepath.Dir(abs))
	}
	if err != nil {
		log.Debug("not recording the pull for doctor", "err", err)
	}
}

// Check checks s, the runs and the pulls; with fix it repairs what it can
// (a read-only store keeps its pulls' temp dirs too). The store's own error
// comes with its report; a report is nil only when nothing could be checked.
// Runs that only another user (root) may check are skipped with a warning.
func Check(ctx context.Context, s *store.Store, fix bool, p Paths, log *slog.Logger) (*Report, error) {
	sr, err := s.Doctor(fix)
	if sr == nil {
		return nil, err
	}
	runs, rerr := run.Doctor(ctx, fix, run.WithRunRoot(p.Runs), run.WithLogger(log))
	if errors.Is(rerr, os.ErrPermission) && len(runs) == 0 {
		log.Warn("cannot check the runs of this store: that needs the user that ran them (root)", "err", rerr)
	} else if rerr != nil {
		return nil, fmt.Errorf("checking runs under %s: %w", p.Runs, rerr)
	}
	r := &Report{Report: sr, Runs: runs, fix: fix, fixPulls: fix && !sr.ReadOnly, dir: s.Dir()}
	r.Pulls, r.PullErrors = pack.RecordedStalePulls(p.Pulls, r.fixPulls)
	return r, err
}

// Clean reports whether Check found nothing to say.
func (r *Report) Clean() bool { return len(r.Runs) == 0 && len(r.Pulls) == 0 && r.Report.Clean() }

// Problems counts what is wrong until fixed.
func (r *Report) Problems() int { return r.Report.Problems() + len(r.Runs) + len(r.Pulls) }

// Err is ErrProblems when Check ran without fix and found problems, else
// nil: what makes dplug doctor fail.
func (r *Report) Err() error {
	if !r.fix && r.Problems() > 0 {
		return ErrProblems
	}
	return nil
}

// Write writes r as dplug doctor prints it: with asJSON, r as indented
// JSON on out; else the findings on out (WriteText), and on errOut the pull
// temp dirs that could not be checked (warnings) and, when there is
// nothing to say, that the store under root (as the user named it) is
// consistent.
func (r *Report) Write(out, errOut io.Writer, root string, asJSON bool) error {
	if asJSON {
		return output.JSON(out, r)
	}
	r.WriteText(out, r.dir)
	for _, err := range r.PullErrors {
		fmt.Fprintf(errOut, "dplug: warning: %v\n", err)
	}
	if r.Clean() {
		fmt.Fprintf(errOut, "store %s is consistent\n", root)
	}
	return nil
}

// WriteText writes the findings one a line, as `dplug doctor` prints them;
// dir is the store's Dir().
func (r *Report) WriteText(w io.Writer, dir string) {
	r.Report.WriteText(w, dir, r.fix)
	for _, l := range r.Runs {
		fmt.Fprintln(w, l)
	}
	for _, p := range r.Pulls {
		fmt.Fprintf(w, "%s the temp dir of an interrupted pull %s%s\n",
			map[bool]string{false: "found", true: "removed"}[r.fixPulls], p, map[bool]string{false: " (--fix removes it)"}[r.fixPulls])
	}
}
