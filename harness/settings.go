package harness

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
)

// Settings are how `dplug run` and `dplug test` start a plugin (their
// flags and dplug's root), turned into Start's options in one place.
type Settings struct {
	RunRoot string        // where runs live (run.WithRunRoot)
	Timeout time.Duration // how long the socket may take to accept (run.WithTimeout)
	Log     *slog.Logger  // WithLogger (nil: discarded)
	Output  io.Writer     // WithOutput (nil: the run's log file only), unless Detach
	Detach  bool          // WithDetach; the plugin outlives this process, so only its log keeps its output
	// Warn, if set, gets the line "dplug: warning: MissingWarning" when
	// the plugin's /Plugin.Activate answer lacks a declared interface.
	Warn io.Writer
}

// Options are the Start options s stands for.
func (s Settings) Options() []Option {
	out := s.Output
	if s.Detach {
		out = nil
	}
	opts := []Option{WithRunOptions(run.WithRunRoot(s.RunRoot), run.WithTimeout(s.Timeout)),
		WithOutput(out), WithDetach(s.Detach)}
	if s.Log != nil {
		opts = append(opts, WithLogger(s.Log))
	}
	return opts
}

// Start starts the plugin dir or installed plugin src (FromSource) with
// the settings' options.
func (s Settings) Start(ctx context.Context, src *source.Source) (*Session, error) {
	sess, err := Start(ctx, FromSource(src), s.Options()...)
	if err != nil {
		return nil, err
	}
	if w := sess.MissingWarning(); w != "" && s.Warn != nil {
		fmt.Fprintf(s.Warn, "dplug: warning: %s\n", w)
	}
	return sess, nil
}
