package buildkitd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dplug/dplug/internal/pinned"
	"github.com/moby/buildkit/client"
)

// Config says how to launch one buildkitd process.
type Config struct {
	Binary     string // buildkitd executable; "" means Binary("")
	Runc       string // runc for the OCI worker; "" means Runc()
	StateDir   string // --root: BuildKit's cache and snapshots
	SocketPath string // the unix socket it listens on
	LogFile    string // its stdout and stderr; "" discards them
	ConfigFile string // --config; "" leaves BuildKit's default (/etc/buildkit/buildkitd.toml)
	Debug      bool   // --debug
	// ExtraArgs are appended to buildkitd's arguments, e.g. another --addr
	// tcp://... with --tlscert/--tlskey/--tlscacert.
	ExtraArgs []string

	// Detach starts it in its own session so it outlives this process
	// (what dplug does). Otherwise it is killed when this process dies (tests).
	Detach bool
	// Timeout bounds the wait until it answers; 0 means 60s.
	Timeout time.Duration
}

// Process is a running buildkitd that answers on Addr.
type Process struct {
	PID  int
	Addr string // unix:///...

	exited chan struct{} // closed when it exits, if we are its parent
	err    error         // its exit status, valid after exited is closed
}

// Exited is closed when the process exits (only for a process this one started).
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Launch starts buildkitd as cfg says, as root with the runc (OCI) worker,
// and waits until it answers a ListWorkers call. On failure the process is
// killed and the error carries the end of its log.
func Launch(ctx context.Context, cfg Config) (*Process, error) {
	if cfg.Binary == "" {
		p, err := Binary("")
		if err != nil {
			return nil, err
		}
		cfg.Binary = p
	}
	if cfg.Runc == "" {
		p, err := Runc()
		if err != nil {
			return nil, err
		}
		cfg.Runc = p
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating buildkitd state dir: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.SocketPath), 0o700); err != nil {
		return nil, fmt.Errorf("creating buildkitd socket dir: %w", err)
	}
	if err := os.Remove(cfg.SocketPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing stale socket: %w", err)
	}
	addr := "unix://" + cfg.SocketPath
	args := []string{
		"--root", cfg.StateDir,
		"--addr", addr,
		"--oci-worker=true",
		"--containerd-worker=false",
		"--oci-worker-binary", cfg.Runc,
		// `dplug build --network host`, like the builder in dockerd. The
		// daemon only answers root on its socket.
		"--allow-insecure-entitlement", "network.host",
	}
	if cfg.ConfigFile != "" {
		args = append(args, "--config", cfg.ConfigFile)
	}
	if cfg.Debug {
		args = append(args, "--debug")
	}
	args = append(args, cfg.ExtraArgs...)
	cmd := exec.Command(cfg.Binary, args...)
	cmd.Dir = "/"
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening buildkitd log: %w", err)
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	start := cmd.Start
	if cfg.Detach {
		cmd.SysProcAttr = detachedAttr()
	} else {
		// Attached daemons die with this process (Pdeathsig), which Linux
		// ties to the forking thread: fork from one that never exits.
		cmd.SysProcAttr = attachedAttr()
		start = func() error { return pinned.Start(cmd) }
	}
	if err := start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Binary, err)
	}
	p := &Process{PID: cmd.Process.Pid, Addr: addr, exited: make(chan struct{})}
	// Reap it whenever it exits, so a stopped daemon does not linger as a
	// zombie that still looks alive to kill(pid, 0).
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()

	wctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := waitReady(wctx, addr, p.exited); err != nil {
		_ = cmd.Process.Kill()
		<-p.exited
		if p.err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w (%v)", err, p.err)
		}
		return nil, fmt.Errorf("starting buildkitd: %w%s", err, logTail(cfg.LogFile, 15))
	}
	return p, nil
}

// errExited says the daemon died before it answered.
var errExited = errors.New("buildkitd exited before it answered")

// waitReady polls addr until BuildKit lists its workers.
func waitReady(ctx context.Context, addr string, exited <-chan struct{}) error {
	for {
		if err := Ping(ctx, addr, time.Second); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", addr, ctx.Err())
		case <-exited:
			return errExited
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Ping reports whether a BuildKit daemon answers at addr within timeout, and
// has at least one worker.
func Ping(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if sock, ok := strings.CutPrefix(addr, "unix://"); ok {
		if _, err := os.Stat(sock); err != nil {
			return err
		}
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return errors.New("buildkitd has no workers")
	}
	return nil
}

// logTail returns the last n lines of a log file, formatted to follow an
// error message, or "" when there is nothing to show.
func logTail(path string, n int) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return fmt.Sprintf("\nlast lines of %s:\n  %s", path, strings.Join(lines, "\n  "))
}
