// Package doctor checks a dplug root as a whole, for `dplug doctor`: the
// plugin store (store.Doctor), the runs under ROOT/run nobody will stop
// (run.Doctor) and the temp dirs killed pulls left (pack's pull records),
// and with fix repairs them. It prints nothing but the Report it returns.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

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
}

// Paths are where Check looks besides the store.
type Paths struct {
	Runs  string // the run root (run.WithRunRoot)
	Pulls string // the pull records (pack.RecordPull)
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
	r := &Report{Report: sr, Runs: runs, fix: fix, fixPulls: fix && !sr.ReadOnly}
	r.Pulls, r.PullErrors = pack.RecordedStalePulls(p.Pulls, r.fixPulls)
	return r, err
}

// Clean reports whether Check found nothing to say.
func (r *Report) Clean() bool { return len(r.Runs) == 0 && len(r.Pulls) == 0 && r.Report.Clean() }

// Problems counts what is wrong until fixed.
func (r *Report) Problems() int { return r.Report.Problems() + len(r.Runs) + len(r.Pulls) }

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
