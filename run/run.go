package run

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/dplug/dplug/plugin"
)

// Plugin is what Start needs to know about an installed plugin. It is a
// plain value so that callers can fill it from the store, from a plugin
// directory or in a test.
type Plugin struct {
	ID       string // 64 hex digits in the store; names the run directory and the container
	Name     string // for messages only
	Rootfs   string // host path of the plugin's root filesystem
	Config   plugin.Config
	Settings plugin.Settings
}

// Defaults for Start's options.
const (
	// DefaultTimeout is how long Start waits for the socket to accept a
	// connection; dockerd gives up after about 12.5 s.
	DefaultTimeout = 10 * time.Second
	// DefaultCgroupParent is the cgroup (below each hierarchy's root) under
	// which every plugin gets its own cgroup, named after its ID.
	DefaultCgroupParent = "dplug"
	// DefaultGrace is the time Stop leaves between SIGTERM and SIGKILL in
	// callers that have no better idea: the default of dplug's --grace and
	// what rm --force gives a running plugin.
	DefaultGrace = 5 * time.Second
)

// Errors callers branch on (errors.Is). Start's errors wrap one of them in a
// *StartError that also carries the plugin's exit code and last log lines.
var (
	// ErrUnsupported: running plugins needs Linux.
	ErrUnsupported = errors.New("running plugins needs Linux")
	// ErrNoEntrypoint: the entrypoint is empty or is not an executable file
	// in the rootfs.
	ErrNoEntrypoint = errors.New("entrypoint missing")
	// ErrExited: the plugin exited before its socket accepted a connection.
	ErrExited = errors.New("plugin exited early")
	// ErrNoSocket: the socket never appeared within the timeout.
	ErrNoSocket = errors.New("socket never appeared")
	// ErrNotAnswering: the socket exists but never accepted a connection.
	ErrNotAnswering = errors.New("socket never accepted a connection")
	// ErrNotRunning: no run of that plugin is recorded under the run root.
	ErrNotRunning = errors.New("plugin is not running")
	// ErrAlreadyRunning: a run of that plugin is already recorded.
	ErrAlreadyRunning = errors.New("plugin is already running")
)

// StartError is what Start returns when the plugin did not become ready:
// why, its exit code if it exited, and the tail of its output.
type StartError struct {
	Plugin   string   // name or ID
	Err      error    // one of the sentinel errors above, possibly wrapped
	ExitCode int      // -1 unless the plugin exited
	Log      []string // last lines of the plugin's stdout and stderr
}

func (e *StartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "starting plugin %s: %v", e.Plugin, e.Err)
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
	}
	if len(e.Log) > 0 {
		b.WriteString("; last output:")
		for _, l := range e.Log {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

func (e *StartError) Unwrap() error { return e.Err }

// Option configures Start, Load and Stop.
type Option func(*options)

type options struct {
	runRoot      string
	cgroupParent string
	timeout      time.Duration
	stdout       io.Writer
	stderr       io.Writer
	log          *slog.Logger
}

// DefaultRunRoot is where run directories live unless WithRunRoot says
// otherwise; the dplug CLI passes <store root>/run.
const DefaultRunRoot = "/var/lib/dplug/run"

func makeOptions(opts []Option) options {
	o := options{
		runRoot:      DefaultRunRoot,
		cgroupParent: DefaultCgroupParent,
		timeout:      DefaultTimeout,
		log:          slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithRunRoot sets the directory holding one run directory per running
// plugin, <root>/<first 12 characters of the ID>/ (default DefaultRunRoot).
// Keep it short: the host socket path, <root>/<short id>/sock/<socket>,
// must fit a unix socket address (107 bytes) for clients that do not know
// dplug's long-path dialer.
func WithRunRoot(dir string) Option { return func(o *options) { o.runRoot = dir } }

// WithCgroupParent sets the cgroup under which each plugin's cgroup is
// created (default DefaultCgroupParent).
func WithCgroupParent(p string) Option { return func(o *options) { o.cgroupParent = p } }

// WithTimeout sets how long Start waits for the socket (default
// DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithStdout streams the plugin's stdout to w as well as to its log file.
// Without WithStdout and WithStderr the plugin writes straight to the log
// file and keeps running when the calling process exits (detached).
func WithStdout(w io.Writer) Option { return func(o *options) { o.stdout = w } }

// WithStderr streams the plugin's stderr to w as well as to its log file.
func WithStderr(w io.Writer) Option { return func(o *options) { o.stderr = w } }

// WithLogger sets where run reports what it does (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// lastLines returns the last n non-empty lines of data.
func lastLines(data []byte, n int) []string {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// Leftover is a run that nobody will stop, found by Doctor.
type Leftover struct {
	ID     string `json:"id,omitempty"`   // empty when the run has no readable record
	Name   string `json:"name,omitempty"` // as recorded at start
	Pid    int    `json:"pid,omitempty"`  // the plugin's host PID, if it was started
	Dir    string `json:"dir"`            // the run directory
	Reason string `json:"reason"`
	Fixed  bool   `json:"fixed"` // stopped and removed (Doctor with fix)
}

// String is the line `dplug doctor` prints for l.
func (l Leftover) String() string {
	what, verb := l.Name, "found"
	if what == "" {
		what = l.Dir
	}
	if l.Fixed {
		verb = "stopped and removed"
	}
	return fmt.Sprintf("%s leftover run of %s: %s", verb, what, l.Reason)
}
