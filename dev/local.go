package dev

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/harness"
	"github.com/dplug/dplug/probe"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/store"
)

// Local is the store-mode loop (Linux): build the project, install it in
// the store under Root, run it under libcontainer as dockerd would, and
// probe it as `dplug test` does. The plugin stays running between
// iterations with its output streamed to Out, each line prefixed with its
// name; a new build replaces it only once it built, so a broken edit
// leaves the last good plugin running. Close stops it.
type Local struct {
	Dir   string         // the plugin project
	Root  string         // dplug's root (store and runs)
	Name  string         // the plugin's NAME:TAG in the store
	Build []build.Option // how to build (builder, args, contexts…)
	Out   io.Writer      // plugin output and failed checks (default stderr)
	Log   *slog.Logger   // run's debug log (default: discarded)
	Grace time.Duration  // SIGTERM to SIGKILL when stopping (default run.DefaultGrace)

	staged staging
	sess   *harness.Session // the running plugin
}

// Steps are build, install, run and test.
func (l *Local) Steps() []Step {
	return []Step{
		{Name: "build", Run: l.build},
		{Name: "install", Run: l.install},
		{Name: "run", Run: l.start},
		{Name: "test", Run: l.test},
	}
}

func (l *Local) out() io.Writer { return orStderr(l.Out) }

func (l *Local) build(ctx context.Context) (string, error) {
	return l.staged.build(ctx, l.Dir, l.Build)
}

// install stops the running plugin (its rootfs is replaced under it) and
// installs the new build in its place.
func (l *Local) install(ctx context.Context) (string, error) {
	if err := l.stop(ctx); err != nil {
		return "", err
	}
	src, err := dest.Staged(ctx, l.staged.pluginDir(), "")
	if err != nil {
		return "", err
	}
	_, err = (&dest.Store{Root: l.Root, Name: l.Name}).Deliver(ctx, src)
	return "", err
}

func (l *Local) start(ctx context.Context) (string, error) {
	s, err := store.Open(l.Root)
	if err != nil {
		return "", err
	}
	p, err := s.Get(l.Name)
	if err != nil {
		return "", err
	}
	opts := []harness.Option{harness.WithOutput(l.out()), harness.WithRunOptions(run.WithRunRoot(filepath.Join(l.Root, "run")))}
	if l.Log != nil {
		opts = append(opts, harness.WithLogger(l.Log))
	}
	// The plugin outlives the iteration: only Close stops it.
	sess, err := harness.Start(context.WithoutCancel(ctx), harness.FromStore(p), opts...)
	if err != nil {
		return "", err
	}
	l.sess = sess
	return "", nil
}

// test probes the running plugin as `dplug test` does (harness's Probe:
// through a path pinned to its socket, then a check that it is still
// running).
func (l *Local) test(ctx context.Context) (string, error) {
	rep, err := l.sess.Probe(ctx)
	if err != nil {
		return "", err
	}
	return Verdict(l.out(), rep)
}

// Verdict prints the failed checks of rep on w and returns the test
// step's note: "PASS (N checks)", or "FAIL" with an error counting the
// failures.
func Verdict(w io.Writer, rep *probe.Report) (string, error) {
	if rep.Failed() == 0 {
		return fmt.Sprintf("PASS (%d checks)", len(rep.Checks)), nil
	}
	for _, c := range rep.Checks {
		if c.Failed() {
			fmt.Fprintf(w, "dev: FAIL %s: %s: %s\n", c.Method, c.Name, c.Reason)
		}
	}
	return "FAIL", fmt.Errorf("%d of %d checks failed", rep.Failed(), len(rep.Checks))
}

func (l *Local) stop(ctx context.Context) error {
	if l.sess == nil {
		return nil
	}
	grace := l.Grace
	if grace == 0 {
		grace = run.DefaultGrace
	}
	err := l.sess.Stop(context.WithoutCancel(ctx), grace)
	l.sess = nil
	if err != nil {
		return fmt.Errorf("stopping the running plugin: %w", err)
	}
	return nil
}

// Close stops the running plugin (its mounts, cgroup and run state go
// with it) and removes the staged build. The plugin stays installed.
func (l *Local) Close(ctx context.Context) error {
	err := l.stop(ctx)
	l.staged.remove()
	return err
}
