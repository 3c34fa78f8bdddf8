//go:build cgo

package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"golang.org/x/sys/unix"

	// Without it the cgroup manager cannot apply device rules.
	_ "github.com/opencontainers/cgroups/devices"

	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/probe"
)

// Names inside a run directory.
const (
	stateFile     = "state.json"
	logFile       = "plugin.log"
	sockDirName   = "sock"
	propagatedDir = "propagated-mount"
	containerDir  = "container"
	// The plugin runs on an overlay of its rootfs: rootDir is the merged
	// view, upperDir/workDir hold what the run (init layer, runc's mount
	// points, the plugin itself) writes. The installed rootfs stays as it
	// was installed, so a later push or export is byte-identical.
	rootDir  = "rootfs"
	upperDir = "upper"
	workDir  = "work"
)

// record is the state of a run that another dplug process needs to find,
// stop or read the logs of a (detached) plugin.
type record struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Socket       string    `json:"socket"`
	Pid          int       `json:"pid"`
	Started      time.Time `json:"started"`
	CgroupParent string    `json:"cgroupParent"`
	Propagated   string    `json:"propagatedMount,omitempty"`
	Overlay      string    `json:"overlay,omitempty"` // the merged view the plugin runs on
}

// Instance is one running plugin: its container, socket and log.
type Instance struct {
	rec       record
	dir       string
	container *libcontainer.Container
	opts      options

	done     chan struct{} // closed when the plugin exited; nil for a loaded run we did not start
	exitCode int
	logf     *os.File

	stopOnce sync.Once
	stopErr  error
	tail     []string // last log lines, kept when Stop removes the log
}

var validID = regexp.MustCompile(`^[A-Za-z0-9_+.-]+$`)

// errOtherPlugin: two IDs share a run dir name (their first 12 characters).
var errOtherPlugin = errors.New("another plugin's run")

// runDirName names a plugin's run dir after the first 12 characters of its
// ID, like docker's short IDs, so that the host socket path,
// <run root>/<short id>/sock/<socket>, stays well inside the 107 bytes of a
// unix socket address even under /var/lib/dplug/run. The record inside
// holds the full ID.
func runDirName(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Start runs p under libcontainer and returns once its socket accepts a
// connection. On any failure everything the run made is removed again and
// the error is a *StartError.
func Start(ctx context.Context, p Plugin, opts ...Option) (_ *Instance, retErr error) {
	begin := time.Now()
	o := makeOptions(opts)
	name := p.Name
	if name == "" {
		name = p.ID
	}
	fail := func(err error) error { return &StartError{Plugin: name, Err: err, ExitCode: -1} }
	if !validID.MatchString(p.ID) {
		return nil, fail(fmt.Errorf("invalid plugin ID %q", p.ID))
	}
	if p.Config.Interface.Socket == "" {
		return nil, fail(errors.New("config declares no interface socket"))
	}
	dir := filepath.Join(o.runRoot, runDirName(p.ID))
	// Starts under one run root are serialised until the run is recorded,
	// so that a run dir without a record is a leftover, never a start in
	// progress. The readiness wait happens outside the lock.
	if err := os.MkdirAll(o.runRoot, 0o700); err != nil {
		return nil, fail(err)
	}
	unlock, err := lockDir(o.runRoot)
	if err != nil {
		return nil, fail(err)
	}
	defer unlock() // after the cleanup below (defers run last-in first-out)
	if _, err := os.Stat(dir); err == nil {
		old, err := Load(p.ID, opts...)
		if errors.Is(err, errOtherPlugin) {
			return nil, fail(err)
		}
		if err == nil && old.Running() {
			return nil, fail(fmt.Errorf("%w (pid %d); stop it first", ErrAlreadyRunning, old.rec.Pid))
		}
		if err == nil {
			_ = old.Stop(ctx, 0)
		}
		if err := removeRunDir(dir, p.Config.PropagatedMount != ""); err != nil {
			return nil, fail(fmt.Errorf("removing stale run dir: %w", err))
		}
	}
	rootfs, err := filepath.Abs(p.Rootfs)
	if err != nil {
		return nil, fail(err)
	}
	if err := checkEntrypoint(rootfs, p); err != nil {
		return nil, fail(err)
	}
	if p.Config.User != (plugin.User{}) {
		o.log.Warn("config sets user, which dockerd ignores: the plugin runs as uid 0", "uid", p.Config.User.UID, "gid", p.Config.User.GID)
	}

	inst := &Instance{dir: dir, opts: o, exitCode: -1, done: make(chan struct{})}
	inst.rec = record{ID: p.ID, Name: p.Name, CgroupParent: o.cgroupParent,
		Socket: filepath.Join(dir, sockDirName, p.Config.Interface.Socket)}
	if err := os.Mkdir(dir, 0o700); errors.Is(err, fs.ErrExist) {
		return nil, fail(fmt.Errorf("%w: %s was created meanwhile", ErrAlreadyRunning, dir))
	} else if err != nil {
		return nil, fail(err)
	}
	defer func() {
		if retErr != nil {
			se := retErr.(*StartError)
			if inst.container != nil {
				_ = inst.Stop(context.WithoutCancel(ctx), 0)
				if errors.Is(se.Err, ErrExited) {
					se.ExitCode = inst.exitCode
				}
			}
			se.Log = inst.tail
			if se.Log == nil {
				se.Log = inst.LastLines(10)
			}
			_ = removeRunDir(dir, inst.rec.Propagated != "")
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, sockDirName), 0o700); err != nil {
		return nil, fail(err)
	}
	if merged, err := mountOverlay(dir, rootfs); err != nil {
		o.log.Warn("cannot run on an overlay of the rootfs: the run writes into the installed rootfs", "err", err)
	} else {
		rootfs = merged
		inst.rec.Overlay = merged
	}
	if err := setupInitLayer(rootfs); err != nil {
		return nil, fail(err)
	}
	if p.Config.PropagatedMount != "" {
		inst.rec.Propagated = filepath.Join(dir, propagatedDir)
		if err := makeShared(inst.rec.Propagated); err != nil {
			return nil, fail(err)
		}
	}
	spec, err := buildSpec(p, hostPaths{
		rootfs:     rootfs,
		sockDir:    filepath.Join(dir, sockDirName),
		propagated: inst.rec.Propagated,
		cgroup:     "/" + strings.Trim(o.cgroupParent, "/") + "/" + p.ID,
	})
	if err != nil {
		return nil, fail(err)
	}
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: p.ID, Spec: spec})
	if err != nil {
		return nil, fail(fmt.Errorf("converting runtime spec: %w", err))
	}
	if inst.logf, err = os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, fail(err)
	}
	// The log file stays open while the plugin runs when its output is
	// copied through us; closing it early would end the copy and the
	// plugin's next write would get SIGPIPE.
	logf := inst.logf
	streamed := o.stdout != nil || o.stderr != nil
	waiting := false // the waiter goroutine closes logf when streamed
	defer func() {
		if !streamed || !waiting {
			logf.Close()
		}
	}()
	c, err := libcontainer.Create(filepath.Join(dir, containerDir), p.ID, cfg)
	if err != nil {
		return nil, fail(fmt.Errorf("creating container: %w", err))
	}
	inst.container = c

	proc := &libcontainer.Process{
		Args:            spec.Process.Args,
		Env:             spec.Process.Env,
		Cwd:             spec.Process.Cwd,
		UID:             0,
		GID:             0,
		NoNewPrivileges: ptr(false),
		Capabilities: &configs.Capabilities{
			Bounding:    spec.Process.Capabilities.Bounding,
			Effective:   spec.Process.Capabilities.Effective,
			Inheritable: spec.Process.Capabilities.Inheritable,
			Permitted:   spec.Process.Capabilities.Permitted,
		},
		Stdout: inst.output(o.stdout),
		Stderr: inst.output(o.stderr),
		Init:   true,
	}
	if err := c.Run(proc); err != nil {
		close(inst.done)
		return nil, fail(fmt.Errorf("starting container: %w", err))
	}
	if inst.rec.Pid, err = proc.Pid(); err != nil {
		return nil, fail(err)
	}
	inst.rec.Started = time.Now().UTC()
	waiting = true
	go func() {
		st, err := proc.Wait()
		if st != nil {
			if ws, ok := st.Sys().(syscall.WaitStatus); ok {
				if ws.Signaled() {
					inst.exitCode = 128 + int(ws.Signal())
				} else {
					inst.exitCode = ws.ExitStatus()
				}
			}
		} else if err != nil {
			inst.exitCode = 255
		}
		if streamed {
			logf.Close() // Wait has copied all output by now
		}
		close(inst.done)
	}()
	if err := inst.writeRecord(); err != nil {
		return nil, fail(err)
	}
	unlock()
	o.log.Debug("plugin started", "id", p.ID, "pid", inst.rec.Pid, "socket", inst.rec.Socket, "took", time.Since(begin))
	if err := inst.waitReady(ctx, o.timeout); err != nil {
		return nil, fail(err)
	}
	o.log.Debug("plugin ready", "took", time.Since(begin))
	return inst, nil
}

// output is what the plugin's stdout or stderr is connected to: the log file
// alone (the plugin can outlive us) or the log file and w.
func (i *Instance) output(w io.Writer) io.Writer {
	if w == nil {
		return i.logf
	}
	return io.MultiWriter(i.logf, w)
}

func (i *Instance) writeRecord() error {
	data, err := json.MarshalIndent(i.rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(i.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(i.dir, stateFile))
}

// waitReady polls until the socket accepts a connection, the plugin exits,
// ctx ends or timeout passes.
func (i *Instance) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	seen := false
	for {
		if _, err := os.Stat(i.rec.Socket); err == nil {
			seen = true
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			conn, err := probe.Dial(dctx, i.rec.Socket)
			cancel()
			if err == nil {
				conn.Close()
				return nil
			}
		}
		select {
		case <-i.done:
			return ErrExited
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			// Name the socket as the plugin sees it: that is what its
			// author can fix.
			inside := "/run/docker/plugins/" + filepath.Base(i.rec.Socket)
			if rel, err := filepath.Rel(filepath.Join(i.dir, sockDirName), i.rec.Socket); err == nil {
				inside = "/run/docker/plugins/" + rel
			}
			if seen {
				return fmt.Errorf("%w (waited %s): %s exists but nothing accepts connections on it; check that the plugin listens there", ErrNotAnswering, timeout, inside)
			}
			return fmt.Errorf("%w (waited %s): the plugin must listen on %s (interface.socket in config.json)", ErrNoSocket, timeout, inside)
		case <-tick.C:
		}
	}
}

// checkEntrypoint fails with ErrNoEntrypoint unless the program the plugin
// starts with is an executable file in the rootfs (symlinks resolved inside
// it, PATH searched for a bare name as runc does).
func checkEntrypoint(rootfs string, p Plugin) error {
	args := append(append([]string(nil), p.Config.Entrypoint...), p.Settings.Args...)
	if len(args) == 0 || args[0] == "" {
		return fmt.Errorf("%w: the config has no entrypoint: add \"entrypoint\": [\"/path/to/plugin-binary\"] to config.json", ErrNoEntrypoint)
	}
	prog := args[0]
	var candidates []string
	switch {
	case filepath.IsAbs(prog):
		candidates = []string{prog}
	case strings.Contains(prog, "/"):
		cwd := p.Config.WorkDir
		if cwd == "" {
			cwd = "/"
		}
		candidates = []string{filepath.Join(cwd, prog)}
	default:
		path := defaultPathEnv
		for _, e := range p.Settings.Env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				path = v
			}
		}
		for _, d := range filepath.SplitList(path) {
			candidates = append(candidates, filepath.Join(d, prog))
		}
	}
	for _, c := range candidates {
		full, err := securejoin.SecureJoin(rootfs, c)
		if err != nil {
			continue
		}
		if fi, err := os.Stat(full); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not an executable file in the rootfs %s: fix \"entrypoint\" in config.json or add the program to the rootfs", ErrNoEntrypoint, prog, rootfs)
}

// lockDir takes an exclusive flock on dir; the returned func releases it
// and may be called more than once.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	var once sync.Once
	return func() { once.Do(func() { f.Close() }) }, nil
}

// makeShared creates dir and bind-mounts it onto itself as a shared mount,
// as dockerd does for a propagated mount, so that mounts the plugin makes
// below it appear on the host.
func makeShared(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s: %w", dir, err)
	}
	if err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		_ = unix.Unmount(dir, unix.MNT_DETACH)
		return fmt.Errorf("making %s shared: %w", dir, err)
	}
	return nil
}

// mountOverlay mounts an overlay of rootfs (read-only lower layer) at
// dir/rootfs with its upper and work dirs in dir, and returns the merged
// path. Paths overlayfs cannot take as options (',', ':') are refused.
func mountOverlay(dir, rootfs string) (string, error) {
	if strings.ContainsAny(rootfs+dir, ",:") {
		return "", fmt.Errorf("path %q or %q has a character overlayfs options cannot carry", rootfs, dir)
	}
	merged, upper, work := filepath.Join(dir, rootDir), filepath.Join(dir, upperDir), filepath.Join(dir, workDir)
	for _, d := range []string{merged, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", err
		}
	}
	opts := "lowerdir=" + rootfs + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		for _, d := range []string{merged, upper, work} {
			_ = os.RemoveAll(d)
		}
		return "", fmt.Errorf("mounting overlay at %s: %w", merged, err)
	}
	return merged, nil
}

// removeRunDir unmounts the propagated mount (with everything the plugin
// mounted below it) and the overlay rootfs, and removes the run directory.
// The overlay is unmounted before anything is removed: removing through a
// still-mounted overlay would only write whiteouts, but never risk it.
func removeRunDir(dir string, propagated bool) error {
	var errs []error
	merged := filepath.Join(dir, rootDir)
	for {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("unmounting %s: %w", merged, err)
			}
			break
		}
	}
	if propagated {
		p := filepath.Join(dir, propagatedDir)
		for {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
				if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
					errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
				}
				break
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Load finds the run of the plugin with the given ID under the run root,
// typically one started detached by another dplug process.
func Load(id string, opts ...Option) (*Instance, error) {
	o := makeOptions(opts)
	if !validID.MatchString(id) {
		return nil, fmt.Errorf("invalid plugin ID %q", id)
	}
	dir := filepath.Join(o.runRoot, runDirName(id))
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("loading run of %s: %w", id, ErrNotRunning)
	} else if err != nil {
		return nil, fmt.Errorf("loading run of %s: %w", id, err)
	}
	inst := &Instance{dir: dir, opts: o, exitCode: -1}
	if err := json.Unmarshal(data, &inst.rec); err != nil {
		return nil, fmt.Errorf("loading run of %s: %w", id, err)
	}
	if inst.rec.ID != id {
		return nil, fmt.Errorf("loading run of %s: %w: %s uses %s", id, errOtherPlugin, inst.rec.ID, dir)
	}
	c, err := libcontainer.Load(filepath.Join(dir, containerDir), id)
	if err != nil && !errors.Is(err, libcontainer.ErrNotExist) {
		return nil, fmt.Errorf("loading container %s: %w", id, err)
	}
	inst.container = c
	return inst, nil
}

// Socket is the host path of the plugin's socket.
func (i *Instance) Socket() string { return i.rec.Socket }

// ID is the plugin's ID, which is also its container's ID.
func (i *Instance) ID() string { return i.rec.ID }

// Pid is the host PID of the plugin's first process.
func (i *Instance) Pid() int { return i.rec.Pid }

// Dir is the run directory: socket dir, propagated mount, log and state.
func (i *Instance) Dir() string { return i.dir }

// LogPath is the file the plugin's stdout and stderr go to.
func (i *Instance) LogPath() string { return filepath.Join(i.dir, logFile) }

// Overlay is the host path of the overlay's merged view the plugin runs
// on (what it sees as /), or "" when the run could not mount an overlay and
// the plugin runs on its installed rootfs. Writing there (`dplug test`'s
// log FIFO, as dockerd makes it in the plugin's root) never changes the
// installed rootfs.
func (i *Instance) Overlay() string { return i.rec.Overlay }

// PropagatedMount is the host directory behind the config's
// propagatedMount, or "" when it declares none.
func (i *Instance) PropagatedMount() string { return i.rec.Propagated }

// CgroupPaths are the plugin's cgroup directories on the host, by
// controller.
func (i *Instance) CgroupPaths() map[string]string {
	if i.container == nil {
		return nil
	}
	st, err := i.container.State()
	if err != nil {
		return nil
	}
	return st.CgroupPaths
}

// Done is closed when a plugin started by this process exits. For a run
// found by Load it is nil: use Running.
func (i *Instance) Done() <-chan struct{} { return i.done }

// ExitCode is the plugin's exit status (128+signal if killed), or -1 while
// it runs or when it is not known (a run found by Load).
func (i *Instance) ExitCode() int {
	if i.done == nil {
		return -1
	}
	select {
	case <-i.done:
		return i.exitCode
	default:
		return -1
	}
}

// Running reports whether the plugin's container still has its init.
func (i *Instance) Running() bool {
	if i.done != nil {
		select {
		case <-i.done:
			return false
		default:
			return true
		}
	}
	if i.container == nil {
		return false
	}
	st, err := i.container.Status()
	return err == nil && (st == libcontainer.Running || st == libcontainer.Created || st == libcontainer.Paused)
}

// Wait blocks until the plugin exits or ctx ends, and returns its exit code
// (-1 if unknown).
func (i *Instance) Wait(ctx context.Context) (int, error) {
	if i.done != nil {
		select {
		case <-i.done:
			return i.exitCode, nil
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	}
	for i.Running() {
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return -1, nil
}

// LastLines returns up to n last lines of the plugin's output.
func (i *Instance) LastLines(n int) []string {
	f, err := os.Open(i.LogPath())
	if err != nil {
		return nil
	}
	defer f.Close()
	const tail = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		_, _ = f.Seek(-tail, io.SeekEnd)
	}
	data, _ := io.ReadAll(f)
	return lastLines(data, n)
}

// Stop ends the plugin and removes its run: SIGTERM, up to grace for it to
// exit, SIGKILL, then the container's cgroups and state, the propagated
// mount and the run directory. It is safe to call more than once.
func (i *Instance) Stop(ctx context.Context, grace time.Duration) error {
	i.stopOnce.Do(func() { i.stopErr = i.stop(ctx, grace) })
	return i.stopErr
}

func (i *Instance) stop(ctx context.Context, grace time.Duration) error {
	var errs []error
	if c := i.container; c != nil {
		if i.Running() && grace > 0 {
			if err := c.Signal(unix.SIGTERM); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
				i.opts.log.Debug("sending SIGTERM", "err", err)
			}
			wctx, cancel := context.WithTimeout(ctx, grace)
			_, _ = i.Wait(wctx)
			cancel()
		}
		if i.Running() {
			if err := c.Signal(unix.SIGKILL); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
				errs = append(errs, fmt.Errorf("killing plugin: %w", err))
			}
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_, _ = i.Wait(wctx)
			cancel()
		}
		if err := c.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("destroying container: %w", err))
		}
	}
	removeCgroupParent(i.rec.CgroupParent)
	i.tail = i.LastLines(10)
	if err := removeRunDir(i.dir, i.rec.Propagated != ""); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stopping plugin %s: %w", i.rec.ID, err)
	}
	return nil
}

// removeCgroupParent removes dplug's parent cgroup from every hierarchy
// once no plugin uses it any more (rmdir fails while it has children).
func removeCgroupParent(parent string) {
	parent = strings.Trim(parent, "/")
	if parent == "" || strings.Contains(parent, "..") {
		return
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent)
	dirs = append(dirs, "/sys/fs/cgroup/"+parent)
	for _, d := range dirs {
		_ = unix.Rmdir(d)
	}
}
