package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/internal/exitcode"
	"github.com/dplug/dplug/internal/output"
)

// Settings are `dplug dev`'s inputs as typed: Run checks them, picks the
// session (Local, or Docker with Docker set) and runs its Loop.
type Settings struct {
	// Name is the plugin's NAME[:TAG] ("": the project dir's name, tag dev).
	Name string
	// Docker loads the plugin into the Docker Engine at Host instead of
	// the local store.
	Docker bool
	Host   string
	// Builder, BuildArgs (KEY=VALUE, KEY alone from the environment),
	// Contexts (NAME=VALUE) and Network are the build's, as dplug build
	// takes them.
	Builder, Network    string
	BuildArgs, Contexts []string
	// Once, Debounce: Loop's Options. Grace: Local's.
	Once     bool
	Debounce time.Duration
	Grace    time.Duration
}

// Env is where Run works: dplug's Root (store, runs, buildkitd), Out for
// the loop's lines and the plugin's output (stderr), Log for debug logs.
type Env struct {
	Root string
	Out  io.Writer
	Log  *slog.Logger
}

// InputError is a setting Run refuses before any work (a bad name or
// KEY=VALUE): the user's mistake.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

// ExitClass makes an *InputError a usage error for the CLI
// (exitcode.Classed).
func (e *InputError) ExitClass() int { return exitcode.Usage }

// Run runs the edit loop for the project in dir until ctx ends (Ctrl-C,
// then nil) or, with Once, for one iteration (its error); the session is
// closed either way.
func Run(ctx context.Context, dir string, s Settings, env Env) error {
	if env.Log == nil {
		env.Log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	sess, err := s.session(abs, env)
	if err != nil {
		return err
	}
	out := sess.out()
	fmt.Fprintf(out, "dev: watching %s (Ctrl-C stops)\n", abs)
	err = Loop(ctx, abs, sess.Steps(), Options{Debounce: s.Debounce, Out: out, Once: s.Once})
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return errors.Join(err, sess.Close(ctx))
}

// session is Local or Docker.
type session interface {
	Steps() []Step
	Close(context.Context) error
	out() io.Writer
}

// session checks s and returns the session for the project abs.
func (s Settings) session(abs string, env Env) (session, error) {
	name := s.Name
	if name == "" {
		name = filepath.Base(abs) + ":dev"
	}
	if _, err := engine.Name(name); err != nil {
		return nil, &InputError{fmt.Errorf("%w: name it with -t NAME", err)}
	}
	if !s.Docker && runtime.GOOS != "linux" {
		return nil, fmt.Errorf("dplug dev runs plugins under libcontainer, which needs Linux: use dplug dev --docker")
	}
	args, err := build.ParseKV("build-arg", s.BuildArgs, true)
	if err != nil {
		return nil, &InputError{err}
	}
	contexts, err := build.ParseKV("build-context", s.Contexts, false)
	if err != nil {
		return nil, &InputError{err}
	}
	bopts := []build.Option{
		build.WithRoot(env.Root), build.WithLogger(env.Log), build.WithBuilder(s.Builder),
		build.WithDockerHost(s.Host), build.WithBuildArgs(args), build.WithBuildContexts(contexts),
		build.WithNetwork(s.Network), build.WithProgress("quiet", env.Out),
	}
	out := &output.SyncWriter{W: orStderr(env.Out)}
	if s.Docker {
		return &Docker{Dir: abs, Name: name, Host: s.Host, Build: bopts, Out: out}, nil
	}
	return &Local{Dir: abs, Root: env.Root, Name: name, Build: bopts, Out: out, Log: env.Log, Grace: s.Grace}, nil
}
