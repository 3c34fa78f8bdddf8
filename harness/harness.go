package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/dplug/dplug/probe"
	"github.com/dplug/dplug/run"
)

// activateTimeout bounds the activation handshake Start tries: dockerd
// does not need one from a v2 plugin, so a plugin that does not answer is
// not waited for.
const activateTimeout = 2 * time.Second

// maxSocketPath is the longest path a unix socket address holds.
const maxSocketPath = 107

// Option configures Start.
type Option func(*options)

type options struct {
	run    []run.Option
	log    *slog.Logger
	output io.Writer
	detach bool
}

func makeOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithRunOptions passes options to run.Start (run root, timeout, cgroup
// parent).
func WithRunOptions(opts ...run.Option) Option {
	return func(o *options) { o.run = append(o.run, opts...) }
}

// WithLogger sets where harness and run report what they do (default:
// discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithOutput streams the plugin's stdout and stderr to w, each line
// prefixed with the last element of the plugin's name and " | ", as well as
// to its log file. Without it (or with nil) the output goes to the log file
// only.
func WithOutput(w io.Writer) Option { return func(o *options) { o.output = w } }

// WithDetach leaves the plugin running once Start returns, for another
// process to stop (run.Instance.Detach): until then `dplug doctor` counts
// the run as a leftover once the starting process is gone.
func WithDetach(detach bool) Option { return func(o *options) { o.detach = detach } }

// Session is a plugin started by Start: its run (the embedded Instance:
// Socket, Stop, Done, ...) and what its activation handshake said.
type Session struct {
	*run.Instance
	Plugin run.Plugin
	// Implements is the plugin's answer to /Plugin.Activate; nil when it
	// gave none (dockerd does not need one from a v2 plugin).
	Implements []string
	// Missing lists the interface types the config declares that
	// Implements lacks (none when there is no answer).
	Missing []string

	log *slog.Logger
}

// Start starts p with run.Start, waits until its socket accepts a
// connection and asks /Plugin.Activate, whose answer (if any) it records on
// the Session. A start that fails with "exec format error" says whether
// the entrypoint was built for another architecture.
func Start(ctx context.Context, p run.Plugin, opts ...Option) (*Session, error) {
	o := makeOptions(opts)
	ropts := append([]run.Option{run.WithLogger(o.log)}, o.run...)
	if o.output != nil {
		pw := newPrefixWriter(o.output, shortName(p.Name)+" | ")
		ropts = append(ropts, run.WithStdout(pw), run.WithStderr(pw))
	}
	inst, err := run.Start(ctx, p, ropts...)
	if err != nil {
		return nil, explainExecFormat(err, p.Rootfs, &p.Config)
	}
	if len(inst.Socket()) > maxSocketPath {
		o.log.Warn("the socket's host path is longer than a unix socket address: clients other than dplug need a shorter --root", "socket", inst.Socket())
	}
	s := &Session{Instance: inst, Plugin: p, log: o.log}
	if err := s.activate(ctx); err != nil {
		_ = inst.Stop(context.WithoutCancel(ctx), 0)
		return nil, err
	}
	if o.detach {
		if err := inst.Detach(); err != nil {
			_ = inst.Stop(context.WithoutCancel(ctx), 0)
			return nil, err
		}
	}
	return s, nil
}

// activate asks /Plugin.Activate through a path pinned to the socket (the
// plugin owns its socket dir: never dial a symlink it put there).
func (s *Session) activate(ctx context.Context) error {
	pinned, release, err := s.PinSocket()
	if err != nil {
		return err
	}
	defer release()
	actx, cancel := context.WithTimeout(ctx, activateTimeout)
	defer cancel()
	impl, err := probe.Activate(actx, pinned)
	if err != nil {
		s.log.Debug("plugin does not answer /Plugin.Activate (dockerd does not need it for v2 plugins)", "err", err)
		return nil
	}
	s.Implements = impl
	s.Missing = probe.MissingImplements(s.Plugin.Config.Interface.Types, impl)
	return nil
}

// Wait blocks until ctx ends or the plugin exits. When ctx ends it returns
// ctx's error and leaves the plugin running (Stop it). When the plugin
// exits first, Wait removes what its run made and returns an *ExitError.
func (s *Session) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.Done():
		err := &ExitError{Plugin: s.Plugin.Name, Code: s.ExitCode(), Log: s.LastLines(10)}
		if serr := s.Stop(context.WithoutCancel(ctx), 0); serr != nil {
			s.log.Warn("cleaning up", "err", serr)
		}
		return err
	}
}

// Serve is what `dplug run` does once the plugin started: it says on w
// that the plugin is ready, Waits, and when ctx ends says so and Stops it
// with grace between SIGTERM and SIGKILL. A plugin that exits by itself is
// an *ExitError.
func (s *Session) Serve(ctx context.Context, grace time.Duration, w io.Writer) error {
	fmt.Fprintf(w, "dplug: %s is ready; Ctrl-C stops it\n", s.Plugin.Name)
	if err := s.Wait(ctx); errors.As(err, new(*ExitError)) {
		return err
	}
	fmt.Fprintf(w, "dplug: stopping %s\n", s.Plugin.Name)
	return s.Stop(context.WithoutCancel(ctx), grace)
}

// ExitError is what Wait returns when the plugin exits by itself.
type ExitError struct {
	Plugin string   // its name
	Code   int      // its exit code
	Log    []string // the last lines of its output
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("plugin %s exited with code %d; last output:\n    %s", e.Plugin, e.Code, strings.Join(e.Log, "\n    "))
}
