package buildkitd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// An idle daemon is stopped by a small watcher process the manager starts
// beside it (WithIdleTimeout + WithWatcher): builds hold a shared lock on
// RUNDIR/in-use while they use the daemon (Use), and the watcher stops the
// daemon once nothing used it for the timeout and it can take that lock
// exclusively, so a running build is never cut off.

// DefaultIdle is how long dplug's daemon may sit unused before its watcher
// stops it, unless IdleEnv says otherwise.
const DefaultIdle = 30 * time.Minute

// IdleEnv names the variable that overrides DefaultIdle (0 = never stop).
const IdleEnv = "DPLUG_BUILDKITD_IDLE"

// IdleFromEnv is the idle timeout IdleEnv sets, DefaultIdle when unset.
func IdleFromEnv() (time.Duration, error) {
	v := os.Getenv(IdleEnv)
	if v == "" {
		return DefaultIdle, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid %s %q: want a duration like 30m, or 0 for never", IdleEnv, v)
	}
	return d, nil
}

// SelfWatched returns the options that stop dplug's daemon for root once
// it has been idle for IdleFromEnv's timeout, watched by this executable
// re-run as `EXE --root ROOT buildkitd watch --idle D` (WithWatcher). There
// are none when the timeout is 0, when the executable cannot be found, or
// from a test binary, which would run its tests instead of watching. An
// invalid IdleEnv is an error.
func SelfWatched(root string) ([]Option, error) {
	idle, err := IdleFromEnv()
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil || strings.HasSuffix(exe, ".test") {
		return nil, nil
	}
	return watchedBy(exe, root, idle), nil
}

// watchedBy is SelfWatched's options for the dplug executable exe.
func watchedBy(exe, root string, idle time.Duration) []Option {
	if idle <= 0 {
		return nil
	}
	return []Option{WithIdleTimeout(idle), WithWatcher(exe, "--root", root, "buildkitd", "watch", "--idle", idle.String())}
}

// WithIdleTimeout stops a daemon this manager starts after it has been
// unused for d; 0 (the default) keeps it until Stop. Needs WithWatcher.
func WithIdleTimeout(d time.Duration) Option { return func(o *options) { o.idle = d } }

// WithWatcher is the command that runs StopWhenIdle for the daemon of this
// root (dplug runs itself: `dplug --root ROOT buildkitd watch --idle D`). It
// is started detached next to a new daemon when an idle timeout is set.
func WithWatcher(argv ...string) Option { return func(o *options) { o.watcher = argv } }

func (m *Manager) inUsePath() string { return filepath.Join(m.RunDir(), "in-use") }

// Use marks the daemon as in use until release is called; take it before
// Ensure so an idle stop cannot race the build.
func (m *Manager) Use(ctx context.Context) (release func(), err error) {
	if err := os.MkdirAll(m.RunDir(), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", m.RunDir(), err)
	}
	l := flock.New(m.inUsePath(), flock.SetPermissions(0o600))
	ok, err := l.TryRLockContext(ctx, 50*time.Millisecond)
	if err != nil || !ok {
		return nil, fmt.Errorf("marking buildkitd in use: %w", errorOr(err, ctx.Err()))
	}
	m.touch()
	return func() {
		m.touch()
		_ = l.Unlock()
	}, nil
}

func errorOr(err, other error) error {
	if err != nil {
		return err
	}
	return other
}

// StopWhenIdle waits until the managed daemon has been unused for timeout
// and no build holds it (see Use), then stops it. It returns when the
// daemon is gone, stopped by it or by anyone else, or ctx is done.
func (m *Manager) StopWhenIdle(ctx context.Context, timeout time.Duration) error {
	tick := min(max(timeout/4, 50*time.Millisecond), time.Minute)
	for {
		pid, err := m.readPID()
		if err != nil {
			return err
		}
		if pid == 0 || !alive(pid) {
			return nil
		}
		if time.Since(m.LastUse()) >= timeout {
			l := flock.New(m.inUsePath(), flock.SetPermissions(0o600))
			if ok, err := l.TryLock(); err == nil && ok {
				// Nothing uses it, and nothing can start to until we unlock.
				if time.Since(m.LastUse()) >= timeout {
					m.o.log.Info("stopping idle buildkitd", "pid", pid, "idle", time.Since(m.LastUse()).Round(time.Second))
					_, err := m.Stop(ctx)
					_ = l.Unlock()
					return err
				}
				_ = l.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tick):
		}
	}
}

// startWatcher launches the idle watcher detached, logging to the daemon's log.
func (m *Manager) startWatcher() error {
	if m.o.idle <= 0 || len(m.o.watcher) == 0 {
		return nil
	}
	log, err := os.OpenFile(m.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(m.o.watcher[0], m.o.watcher[1:]...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = detachedAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting buildkitd idle watcher: %w", err)
	}
	go func() { _ = cmd.Wait() }() // reap it if we are still around
	return writePID(m.watcherPIDPath(), cmd.Process.Pid)
}

func (m *Manager) watcherPIDPath() string { return filepath.Join(m.RunDir(), "watcher.pid") }

// stopWatcher ends the idle watcher of a daemon being stopped by someone
// else (it would notice on its own, but only at its next tick).
func (m *Manager) stopWatcher() {
	data, err := os.ReadFile(m.watcherPIDPath())
	if err != nil {
		return
	}
	_ = os.Remove(m.watcherPIDPath())
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "\x00buildkitd\x00watch\x00") {
		return // gone, or the pid was reused
	}
	_ = signal(pid, false)
}
