//go:build cgo

package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	// Without it the cgroup manager cannot apply device rules.
	_ "github.com/opencontainers/cgroups/devices"

	"github.com/dplug/dplug/internal/atomicfile"
	"github.com/dplug/dplug/plugin"
)

// Names inside a run directory.
const (
	stateFile     = "state.json"
	logFile       = "plugin.log"
	sockDirName   = "sock"
	propagatedDir = "propagated-mount"
	containerDir  = "container"
	// bundleDir is the run's own empty dir, bind-mounted where a declared
	// bind mount has an empty source (dockerd mounts its bundle dir there).
	bundleDir = "bundle"
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
	// Root is the host path of the running plugin's root (the overlay's
	// merged dir).
	Root string `json:"root,omitempty"`
	// Owner is the dplug process that started the run and OwnerStart its
	// start time (clock ticks since boot, /proc/PID/stat field 22), so that
	// a reused PID is not taken for it. A run that is not Detached belongs
	// to its owner: once the owner is gone, nobody will stop it.
	Owner      int    `json:"owner,omitempty"`
	OwnerStart uint64 `json:"ownerStart,omitempty"`
	Detached   bool   `json:"detached,omitempty"`
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

// Start runs p under libcontainer and returns once its socket accepts a
// connection. On any failure everything the run made is removed again and
// the error is a *StartError.
//
// The steps: prepare (check p, lock the run root, clear a stale run), mount
// (the run dir, the overlay over the rootfs, the propagated mount), create
// (the runtime spec and the container), launch (the plugin process and its
// output) and wait (until the socket answers).
func Start(ctx context.Context, p Plugin, opts ...Option) (_ *Instance, retErr error) {
	begin := time.Now()
	o := makeOptions(opts)
	name := p.Name
	if name == "" {
		name = p.ID
	}
	fail := func(err error) error { return &StartError{Plugin: name, Err: err, ExitCode: -1} }
	inst, rootfs, unlock, err := prepare(ctx, p, &o, opts)
	if err != nil {
		return nil, fail(err)
	}
	defer unlock() // after the cleanup below (defers run last-in first-out)
	if err := os.Mkdir(inst.dir, 0o700); errors.Is(err, fs.ErrExist) {
		return nil, fail(fmt.Errorf("%w: %s was created meanwhile", ErrAlreadyRunning, inst.dir))
	} else if err != nil {
		return nil, fail(err)
	}
	defer func() {
		if retErr != nil {
			inst.abort(ctx, retErr)
		}
	}()
	if rootfs, err = inst.mount(p, rootfs); err != nil {
		return nil, fail(err)
	}
	spec, err := inst.create(p, rootfs)
	if err != nil {
		return nil, fail(err)
	}
	if err := inst.launch(spec); err != nil {
		return nil, fail(err)
	}
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

// prepare checks p, resolves the run root (o.runRoot becomes its real
// path), locks it and clears a stale run of p. It returns the Instance to
// be (its dir not yet created), p's absolute rootfs and the unlock
// function; on error the run root is left unlocked.
//
// Starts under one run root are serialised until the run is recorded, so
// that a run dir without a record is a leftover, never a start in
// progress. The readiness wait happens outside the lock.
func prepare(ctx context.Context, p Plugin, o *options, opts []Option) (_ *Instance, rootfs string, unlock func(), err error) {
	if !validID.MatchString(p.ID) {
		return nil, "", nil, fmt.Errorf("invalid plugin ID %q", p.ID)
	}
	if p.Config.Interface.Socket == "" {
		return nil, "", nil, errors.New("config declares no interface socket")
	}
	if _, err := socketPath(sockDirName, p.Config.Interface.Socket); err != nil {
		return nil, "", nil, err
	}
	if err := os.MkdirAll(o.runRoot, 0o700); err != nil {
		return nil, "", nil, err
	}
	// runc wants the rootfs by its real path, and mountinfo names mount
	// points by theirs.
	realRoot, err := filepath.EvalSymlinks(o.runRoot)
	if err != nil {
		return nil, "", nil, err
	}
	o.runRoot = realRoot
	dir, err := runDir(o.runRoot, p.ID)
	if err != nil {
		return nil, "", nil, err
	}
	sock, err := socketPath(filepath.Join(dir, sockDirName), p.Config.Interface.Socket)
	if err != nil {
		return nil, "", nil, err
	}
	release, err := lockDir(o.runRoot)
	if err != nil {
		return nil, "", nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	if err := clearStale(ctx, p.ID, dir, opts); err != nil {
		return nil, "", nil, err
	}
	if rootfs, err = filepath.Abs(p.Rootfs); err != nil {
		return nil, "", nil, err
	}
	if err := checkEntrypoint(rootfs, p); err != nil {
		return nil, "", nil, err
	}
	if p.Config.User != (plugin.User{}) {
		o.log.Warn("config sets user, which dockerd ignores: the plugin runs as uid 0", "uid", p.Config.User.UID, "gid", p.Config.User.GID)
	}
	inst := &Instance{dir: dir, opts: *o, exitCode: -1, done: make(chan struct{})}
	inst.rec = record{ID: p.ID, Name: p.Name, CgroupParent: o.cgroupParent, Socket: sock, Owner: os.Getpid()}
	if inst.rec.OwnerStart, err = procStart(inst.rec.Owner); err != nil {
		return nil, "", nil, err
	}
	return inst, rootfs, release, nil
}

// clearStale removes what an earlier run of id left in dir, and refuses
// if that run is still going (or dir is another plugin's).
func clearStale(ctx context.Context, id, dir string, opts []Option) error {
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	old, err := Load(id, opts...)
	if errors.Is(err, errOtherPlugin) {
		return err
	}
	if err == nil && old.Running() && !old.orphaned() {
		return fmt.Errorf("%w (pid %d); stop it first", ErrAlreadyRunning, old.rec.Pid)
	}
	if err == nil {
		_ = old.Stop(ctx, 0)
	}
	if err := removeRunDir(dir); err != nil {
		return fmt.Errorf("removing stale run dir: %w", err)
	}
	return nil
}

// abort undoes a failed start: it stops the container if there is one and
// removes the run dir, and completes err's *StartError with the plugin's
// exit code and last log lines.
func (i *Instance) abort(ctx context.Context, err error) {
	var se *StartError
	errors.As(err, &se)
	if i.container != nil {
		_ = i.Stop(context.WithoutCancel(ctx), 0)
		if se != nil && errors.Is(se.Err, ErrExited) {
			se.ExitCode = i.exitCode
		}
	}
	if se != nil {
		se.Log = i.tail
		if se.Log == nil {
			se.Log = i.LastLines(10)
		}
	}
	_ = removeRunDir(i.dir)
}

// mount fills the run dir (record, socket and bundle dirs), mounts an
// overlay over rootfs and the propagated mount, and returns the rootfs the
// plugin runs on.
func (i *Instance) mount(p Plugin, rootfs string) (string, error) {
	// The record goes first, so that a run dir always says whose it is.
	if err := i.writeRecord(); err != nil {
		return "", err
	}
	for d, mode := range map[string]os.FileMode{sockDirName: 0o700, bundleDir: 0o755} {
		if err := os.Mkdir(filepath.Join(i.dir, d), mode); err != nil {
			return "", err
		}
	}
	// Never run on the installed rootfs itself: what the run writes would
	// stay in the plugin (and be pushed with it).
	merged, err := mountOverlay(i.dir, rootfs)
	if err != nil {
		return "", fmt.Errorf("%w; dplug never runs a plugin on its installed rootfs", err)
	}
	i.rec.Root = merged
	warnEmptySources(i.opts, p)
	if err := setupInitLayer(merged); err != nil {
		return "", err
	}
	if p.Config.PropagatedMount != "" {
		i.rec.Propagated = filepath.Join(i.dir, propagatedDir)
		if err := makeShared(i.rec.Propagated); err != nil {
			return "", err
		}
	}
	return merged, nil
}

// create builds the runtime spec for p on rootfs and creates the
// container (not yet running).
func (i *Instance) create(p Plugin, rootfs string) (*specs.Spec, error) {
	spec, err := buildSpec(p, hostPaths{
		rootfs:     rootfs,
		sockDir:    filepath.Join(i.dir, sockDirName),
		propagated: i.rec.Propagated,
		bundle:     filepath.Join(i.dir, bundleDir),
		cgroup:     "/" + strings.Trim(i.opts.cgroupParent, "/") + "/" + p.ID,
	})
	if err != nil {
		return nil, err
	}
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: p.ID, Spec: spec})
	if err != nil {
		return nil, fmt.Errorf("converting runtime spec: %w", err)
	}
	if i.logf, err = os.OpenFile(filepath.Join(i.dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, err
	}
	c, err := libcontainer.Create(filepath.Join(i.dir, containerDir), p.ID, cfg)
	if err != nil {
		i.logf.Close()
		return nil, fmt.Errorf("creating container: %w", err)
	}
	i.container = c
	return spec, nil
}

// launch starts the plugin process in the container, its output going to
// the log (and the writers given), and a goroutine that records its exit.
//
// The plugin writes to the log file directly, or, for a stream that is
// also shown to a writer, to a pipe that we copy into both. The process
// gets only files, so that its exit is seen as soon as its init exits,
// even while children it left behind (pidhost) still hold its stdout. The
// log file stays open until every copy has ended: closing it early would
// end the copy and the plugin's next write would get SIGPIPE.
func (i *Instance) launch(spec *specs.Spec) error {
	logf := i.logf
	var copies sync.WaitGroup
	outs, childEnds, err := i.outputs(&copies)
	defer func() {
		for _, f := range childEnds {
			f.Close() // the plugin has its own copies
		}
		go func() { copies.Wait(); logf.Close() }()
	}()
	if err != nil {
		close(i.done) // no process will ever exit: Stop must not wait for one
		return err
	}
	proc := process(spec, outs)
	if err := i.container.Run(proc); err != nil {
		close(i.done)
		return fmt.Errorf("starting container: %w", err)
	}
	if i.rec.Pid, err = proc.Pid(); err != nil {
		return err
	}
	i.rec.Started = time.Now().UTC()
	go i.reap(proc)
	return nil
}

// outputs are the plugin's stdout and stderr: the log file, or the write
// end of a pipe that a goroutine (counted in copies) copies into the log
// and the stream's writer. childEnds are those write ends, to close once
// the plugin has its own copies; on an error, those made so far.
func (i *Instance) outputs(copies *sync.WaitGroup) (outs [2]*os.File, childEnds []*os.File, err error) {
	for k, w := range []io.Writer{i.opts.stdout, i.opts.stderr} {
		if w == nil {
			outs[k] = i.logf
			continue
		}
		r, pw, err := os.Pipe()
		if err != nil {
			return outs, childEnds, err
		}
		outs[k] = pw
		childEnds = append(childEnds, pw)
		dst := io.MultiWriter(i.logf, w)
		copies.Add(1)
		go func() {
			defer copies.Done()
			defer r.Close()
			_, _ = io.Copy(dst, r)
		}()
	}
	return outs, childEnds, nil
}

// process is the plugin's init process as spec describes it, writing to
// outs.
func process(spec *specs.Spec, outs [2]*os.File) *libcontainer.Process {
	return &libcontainer.Process{
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
		Stdout: outs[0],
		Stderr: outs[1],
		Init:   true,
	}
}

// reap waits for the plugin to exit, records its exit code (128+signal
// when killed, 255 when it cannot be told) and closes done.
func (i *Instance) reap(proc *libcontainer.Process) {
	st, err := proc.Wait()
	if st != nil {
		if ws, ok := st.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				i.exitCode = 128 + int(ws.Signal())
			} else {
				i.exitCode = ws.ExitStatus()
			}
		}
	} else if err != nil {
		i.exitCode = 255
	}
	close(i.done)
}

func (i *Instance) writeRecord() error {
	data, err := json.MarshalIndent(i.rec, "", "  ")
	if err != nil {
		return err
	}
	// Replaced whole (a reader never sees part of it); not fsynced, as before.
	return atomicfile.WriteFile(filepath.Join(i.dir, stateFile), append(data, '\n'), 0o600, false)
}

// waitReady polls until the socket accepts a connection, the plugin exits,
// ctx ends or timeout passes.
func (i *Instance) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	sockDir := filepath.Join(i.dir, sockDirName)
	rel, err := filepath.Rel(sockDir, i.rec.Socket)
	if err != nil {
		return err
	}
	seen := false
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := dialSocket(dctx, sockDir, rel)
		cancel()
		switch {
		case err == nil:
			conn.Close()
			return nil
		case errors.Is(err, ErrSocketOutside):
			return err
		case !errors.Is(err, errNoSocketYet):
			seen = true
		}
		select {
		case <-i.done:
			return ErrExited
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			// Name the socket as the plugin sees it: that is what its
			// author can fix.
			inside := filepath.Join(runtimeDir, rel)
			if seen {
				return fmt.Errorf("%w (waited %s): %s exists but nothing accepts connections on it; check that the plugin listens there", ErrNotAnswering, timeout, inside)
			}
			return fmt.Errorf("%w (waited %s): the plugin must listen on %s (interface.socket in config.json)", ErrNoSocket, timeout, inside)
		case <-tick.C:
		}
	}
}

// CheckSocket fails with ErrSocketOutside if the plugin's socket is not a
// socket inside its socket dir any more (the plugin replaced it with a
// symlink, say).
func (i *Instance) CheckSocket() error {
	_, release, err := i.PinSocket()
	if err == nil {
		release()
	}
	return err
}

// Dial connects to the plugin's socket without following any symlink the
// plugin may have put in its place.
func (i *Instance) Dial(ctx context.Context) (net.Conn, error) {
	sockDir := filepath.Join(i.dir, sockDirName)
	rel, err := filepath.Rel(sockDir, i.rec.Socket)
	if err != nil {
		return nil, err
	}
	return dialSocket(ctx, sockDir, rel)
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
// path. The layers are named to overlayfs as /proc/self/fd/N of open
// directories: its options cannot carry ',' or ':' (nor long paths), and
// the store root may have them.
func mountOverlay(dir, rootfs string) (string, error) {
	merged, upper, work := filepath.Join(dir, rootDir), filepath.Join(dir, upperDir), filepath.Join(dir, workDir)
	for _, d := range []string{merged, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", err
		}
	}
	var names [3]string
	for k, d := range []string{rootfs, upper, work} {
		fd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", fmt.Errorf("opening %s: %w", d, err)
		}
		defer unix.Close(fd)
		names[k] = "/proc/self/fd/" + strconv.Itoa(fd)
	}
	opts := "lowerdir=" + names[0] + ",upperdir=" + names[1] + ",workdir=" + names[2]
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("mounting an overlay of %s at %s: %w", rootfs, merged, err)
	}
	return merged, nil
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMountinfo(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out), nil
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// removeRunDir unmounts everything mounted at or below the run directory
// (the overlay rootfs, the propagated mount with what the plugin mounted
// below it, mounts propagated into the socket or bundle dir) and removes
// the directory. Nothing is removed while a mount remains: removing
// through a mount would delete what it shows.
func removeRunDir(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// mountinfo names mount points by their real path.
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", dir, err)
	}
	for range 100 {
		mps, err := mountsUnder(real)
		if err != nil {
			return fmt.Errorf("listing mounts under %s: %w", dir, err)
		}
		if len(mps) == 0 {
			return os.RemoveAll(dir)
		}
		for _, mp := range mps {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("unmounting %s: %w", mp, err)
			}
		}
	}
	return fmt.Errorf("removing %s: mounts keep reappearing below it; not removing it", dir)
}

// procStart is the start time of process pid (clock ticks since boot,
// field 22 of /proc/PID/stat), which tells a process from a later one
// with the same PID.
func procStart(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// ownerAlive reports whether the dplug process that started the run still
// runs.
func (i *Instance) ownerAlive() bool {
	if i.rec.Owner <= 0 {
		return false
	}
	st, err := procStart(i.rec.Owner)
	return err == nil && st == i.rec.OwnerStart
}

// orphaned reports whether the run is a foreground run whose dplug is
// gone: nobody will stop it.
func (i *Instance) orphaned() bool { return !i.rec.Detached && !i.ownerAlive() }

// warnEmptySources logs each declared bind mount whose source is still
// empty: it gets an empty dir of the run's own, as with dockerd.
func warnEmptySources(o options, p Plugin) {
	mounts := p.Settings.Mounts
	if mounts == nil {
		mounts = p.Config.Mounts
	}
	for _, m := range mounts {
		if m.Source != nil && *m.Source == "" && isBind(m.Type, m.Options) {
			o.log.Warn("a bind mount has an empty source: the plugin gets an empty dir of this run there, as with dockerd; set it with `dplug set PLUGIN "+m.Name+".source=/host/path`", "mount", m.Name, "destination", m.Destination)
		}
	}
}

// Load finds the run of the plugin with the given ID under the run root,
// typically one started detached by another dplug process.
func Load(id string, opts ...Option) (*Instance, error) {
	o := makeOptions(opts)
	if !validID.MatchString(id) {
		return nil, fmt.Errorf("invalid plugin ID %q", id)
	}
	dir, err := runDir(o.runRoot, id)
	if err != nil {
		return nil, err
	}
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
	if inst.rec.Pid == 0 && inst.ownerAlive() {
		// Another process is starting it: not ours to stop yet.
		return nil, fmt.Errorf("loading run of %s: %w (pid %d is starting it)", id, ErrNotRunning, inst.rec.Owner)
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

// Rootfs is the host path of the running plugin's root directory (the
// merged dir of the overlay it runs on): a path dockerd gives the plugin,
// such as a log driver's FIFO, is found below it. Writes there go to the
// run's overlay, never to the installed rootfs.
func (i *Instance) Rootfs() string { return i.rec.Root }

// Detach marks the run as one that outlives the process that started it
// (`dplug run --detach`): without it, a run whose starting process is gone
// is a leftover that Doctor stops and removes.
func (i *Instance) Detach() error {
	i.rec.Detached = true
	return i.writeRecord()
}

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
	if err := removeRunDir(i.dir); err != nil {
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
