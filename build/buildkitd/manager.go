package buildkitd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/dplug/dplug/internal/atomicfile"
)

// maxSocketPath keeps socket paths under the kernel's sun_path limit (108).
const maxSocketPath = 100

// ErrNotRoot says dplug cannot start its own buildkitd without root.
var ErrNotRoot = errors.New("dplug's own buildkitd runs as root: run dplug as root, " +
	"or point --addr/BUILDKIT_HOST at another BuildKit (a rootless buildkitd, docker-container://NAME, tcp://HOST:PORT)")

// ErrNeedsLinux says dplug cannot start its own buildkitd on this system.
var ErrNeedsLinux = errors.New("dplug's own buildkitd needs Linux: " +
	"point --addr/BUILDKIT_HOST at a BuildKit (docker-container://NAME, tcp://HOST:PORT, ...)")

// Manager owns the buildkitd of one dplug root.
type Manager struct {
	root string
	o    options
}

type options struct {
	log          *slog.Logger
	binary       string
	configFile   string
	debug        bool
	startTimeout time.Duration
	stopTimeout  time.Duration
	idle         time.Duration
	watcher      []string
}

// Option configures a Manager.
type Option func(*options)

// WithLogger sets where the manager logs; default: discarded.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithBinary sets the buildkitd executable; default: Binary(root).
func WithBinary(path string) Option { return func(o *options) { o.binary = path } }

// WithConfigFile passes --config to a daemon the manager starts; default:
// BuildKit's own default (/etc/buildkit/buildkitd.toml if present).
func WithConfigFile(path string) Option { return func(o *options) { o.configFile = path } }

// WithDebug starts the daemon with --debug; default off.
func WithDebug(on bool) Option { return func(o *options) { o.debug = on } }

// WithStartTimeout bounds the wait for a new daemon to answer; default 60s.
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

// WithStopTimeout is the grace period between SIGTERM and SIGKILL; default 10s.
func WithStopTimeout(d time.Duration) Option { return func(o *options) { o.stopTimeout = d } }

// New returns the manager for the buildkitd of the dplug root.
func New(root string, opts ...Option) *Manager {
	o := options{
		log:          slog.New(slog.DiscardHandler),
		startTimeout: 60 * time.Second,
		stopTimeout:  10 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(root)
	if err == nil {
		root = abs
	}
	return &Manager{root: root, o: o}
}

// StateDir is buildkitd's --root: ROOT/buildkit.
func (m *Manager) StateDir() string { return filepath.Join(m.root, "buildkit") }

// RunDir is the private 0700 directory holding the socket, pid file and
// log: ROOT/run/buildkitd, or /run/dplug/buildkitd-HASH (TMPDIR when not
// root) when ROOT is too deep for a unix socket path.
func (m *Manager) RunDir() string {
	d := filepath.Join(m.root, "run", "buildkitd")
	if len(filepath.Join(d, "buildkitd.sock")) <= maxSocketPath {
		return d
	}
	sum := sha256.Sum256([]byte(m.root))
	base := "/run/dplug"
	if os.Geteuid() != 0 {
		base = filepath.Join(os.TempDir(), fmt.Sprintf("dplug-%d", os.Geteuid()))
	}
	return filepath.Join(base, "buildkitd-"+hex.EncodeToString(sum[:6]))
}

func (m *Manager) socketPath() string { return filepath.Join(m.RunDir(), "buildkitd.sock") }
func (m *Manager) pidPath() string    { return filepath.Join(m.RunDir(), "buildkitd.pid") }
func (m *Manager) lockPath() string   { return filepath.Join(m.RunDir(), "lock") }

// LogFile is where the daemon's output goes.
func (m *Manager) LogFile() string { return filepath.Join(m.RunDir(), "buildkitd.log") }

// Addr is the address the managed daemon listens on.
func (m *Manager) Addr() string { return "unix://" + m.socketPath() }

// Status describes the managed daemon.
type Status struct {
	Running  bool   `json:"running"`
	PID      int    `json:"pid,omitempty"`
	Addr     string `json:"addr"`
	StateDir string `json:"stateDir"`
	LogFile  string `json:"logFile"`
	// Answering is false when the process exists but does not answer.
	Answering bool `json:"answering"`
}

// Status reports whether the managed daemon runs and answers.
func (m *Manager) Status(ctx context.Context) (*Status, error) {
	st := &Status{Addr: m.Addr(), StateDir: m.StateDir(), LogFile: m.LogFile()}
	pid, err := m.readPID()
	if err != nil {
		return nil, err
	}
	if pid == 0 || !alive(pid) {
		return st, nil
	}
	st.Running, st.PID = true, pid
	st.Answering = Ping(ctx, st.Addr, 2*time.Second) == nil
	return st, nil
}

// Ensure returns the address of the managed daemon, starting it when it
// does not run; started says whether this call started it. Concurrent calls
// (several dplug builds) start at most one daemon.
func (m *Manager) Ensure(ctx context.Context) (addr string, started bool, err error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return "", false, err
	}
	defer unlock()

	pid, err := m.readPID()
	if err != nil {
		return "", false, err
	}
	if pid != 0 && alive(pid) {
		// It may still be starting (another dplug just launched it).
		wctx, cancel := context.WithTimeout(ctx, m.o.startTimeout)
		defer cancel()
		if err := waitReady(wctx, m.Addr(), nil); err != nil {
			return "", false, fmt.Errorf("buildkitd (pid %d) does not answer on %s: %w; `dplug buildkitd stop` restarts it%s",
				pid, m.Addr(), err, logTail(m.LogFile(), 10))
		}
		m.touch()
		return m.Addr(), false, nil
	}

	if runtime.GOOS != "linux" {
		return "", false, ErrNeedsLinux
	}
	if os.Geteuid() != 0 {
		return "", false, ErrNotRoot
	}
	bin := m.o.binary
	if bin == "" {
		if bin, err = Binary(m.root); err != nil {
			return "", false, err
		}
	}
	runc, err := Runc()
	if err != nil {
		return "", false, err
	}
	m.o.log.Debug("starting buildkitd", "binary", bin, "state", m.StateDir(), "addr", m.Addr())
	p, err := Launch(ctx, Config{
		Binary:     bin,
		Runc:       runc,
		StateDir:   m.StateDir(),
		SocketPath: m.socketPath(),
		LogFile:    m.LogFile(),
		ConfigFile: m.o.configFile,
		Debug:      m.o.debug,
		Detach:     true,
		Timeout:    m.o.startTimeout,
	})
	if err != nil {
		return "", false, err
	}
	if err := writePID(m.pidPath(), p.PID); err != nil {
		_ = signal(p.PID, true)
		return "", false, fmt.Errorf("writing buildkitd pid file: %w", err)
	}
	m.touch()
	if err := m.startWatcher(); err != nil {
		m.o.log.Warn("buildkitd will not stop when idle", "err", err)
	}
	return p.Addr, true, nil
}

// Stop stops the managed daemon: SIGTERM, then SIGKILL after the grace
// period. stopped is false when it was not running.
func (m *Manager) Stop(ctx context.Context) (stopped bool, err error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	pid, err := m.readPID()
	if err != nil {
		return false, err
	}
	if pid != 0 && alive(pid) {
		if err := terminate(ctx, pid, m.o.stopTimeout); err != nil {
			return false, fmt.Errorf("stopping buildkitd (pid %d): %w", pid, err)
		}
		stopped = true
	}
	m.stopWatcher()
	var errs []error
	for _, p := range []string{m.pidPath(), m.socketPath()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return stopped, errors.Join(errs...)
}

// LastUse is when a build last used the managed daemon (zero if never).
func (m *Manager) LastUse() time.Time {
	fi, err := os.Stat(filepath.Join(m.RunDir(), "last-use"))
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// Touch records that a build used the daemon now.
func (m *Manager) Touch() { m.touch() }

func (m *Manager) touch() {
	p := filepath.Join(m.RunDir(), "last-use")
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil {
		_ = os.WriteFile(p, nil, 0o600)
	}
}

func (m *Manager) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(m.RunDir(), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", m.RunDir(), err)
	}
	if err := os.Chmod(m.RunDir(), 0o700); err != nil {
		return nil, err
	}
	l := flock.New(m.lockPath())
	ok, err := l.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", m.lockPath(), err)
	}
	if !ok {
		return nil, fmt.Errorf("locking %s: %w", m.lockPath(), ctx.Err())
	}
	return func() { _ = l.Unlock() }, nil
}

func (m *Manager) readPID() (int, error) {
	data, err := os.ReadFile(m.pidPath())
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading buildkitd pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, nil // garbage: treat as not running
	}
	return pid, nil
}

// alive reports whether pid is a live (not zombie) buildkitd process.
func alive(pid int) bool {
	if !exists(pid) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...; comm may contain spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	if s[i+2] == 'Z' || s[i+2] == 'X' {
		return false
	}
	comm := s[strings.IndexByte(s, '(')+1 : i]
	return strings.HasPrefix(comm, "buildkitd")
}

// terminate sends SIGTERM, waits up to grace, then SIGKILLs.
func terminate(ctx context.Context, pid int, grace time.Duration) error {
	if err := signal(pid, false); err != nil {
		if !exists(pid) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := signal(pid, true); err != nil && exists(pid) {
		return err
	}
	for i := 0; i < 100 && alive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// writePID writes a pid file whole, fsynced: it is how a later dplug finds
// the detached daemon (or its idle watcher) to reuse or stop it, and it is
// written once per start, so the fsync costs nothing against the start.
func writePID(path string, pid int) error {
	return atomicfile.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o600, true)
}
