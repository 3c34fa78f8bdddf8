//go:build linux && cgo

package run

// Tests for what the mutation run of run_linux.go found unchecked (make
// mutate, PART=runlinux): each names the mutant it kills.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
)

// debugLog is a logger that keeps everything, debug lines included.
func debugLog() (*slog.Logger, *testenv.Buffer) {
	var buf testenv.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// tryLock reports whether dir's flock is free, taking and dropping it
// through a descriptor of its own (as another Start would).
func tryLock(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestPrepareHoldsTheLock: prepare returns with the run root locked (the
// start is serialised until its record is written) and leaves it unlocked
// when it fails. Kills run_linux.go:193 (`err != nil` -> `==` in prepare's
// deferred release: the lock dropped on success, kept on failure).
func TestPrepareHoldsTheLock(t *testing.T) {
	p := newPlugin(t, nil)
	root := testenv.RunRoot(t)
	o := makeOptions([]Option{WithRunRoot(root)})
	_, _, unlock, err := prepare(context.Background(), p, &o, nil)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	if tryLock(t, root) {
		t.Error("the run root is not locked after prepare succeeded")
	}
	unlock()
	unlock() // may be called more than once
	if !tryLock(t, root) {
		t.Error("the run root is still locked after unlock")
	}

	bad := p
	bad.Config.Entrypoint = []string{"/nope"}
	o = makeOptions([]Option{WithRunRoot(root)})
	if _, _, _, err := prepare(context.Background(), bad, &o, nil); !errors.Is(err, ErrNoEntrypoint) {
		t.Fatalf("prepare with a missing entrypoint: %v, want ErrNoEntrypoint", err)
	}
	if !tryLock(t, root) {
		t.Error("a failed prepare left the run root locked")
	}
}

// TestPrepareWarnsAboutUser: a config's user is ignored (as by dockerd) with
// a warning, and only when it sets one. Kills run_linux.go:206 (`!=` ->
// `==`: the warning for every plugin but those that set a user).
func TestPrepareWarnsAboutUser(t *testing.T) {
	for _, user := range []plugin.User{{}, {UID: 1000, GID: 1000}} {
		t.Run(strconv.Itoa(int(user.UID)), func(t *testing.T) {
			cfg := testplugin.Config()
			cfg.User = user
			p := newPlugin(t, &cfg)
			log, buf := debugLog()
			o := makeOptions([]Option{WithRunRoot(testenv.RunRoot(t)), WithLogger(log)})
			_, _, unlock, err := prepare(context.Background(), p, &o, nil)
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			unlock()
			warned := strings.Contains(buf.String(), "config sets user")
			if want := user != (plugin.User{}); warned != want {
				t.Errorf("warned about the user: %v, want %v; log:\n%s", warned, want, buf.String())
			}
		})
	}
}

// TestWarnEmptySources: each declared bind mount whose source is empty is
// named in a warning, from the settings' mounts when set, else the
// config's; a set source, a missing one or a non-bind mount gets none.
// Kills run_linux.go:714 (`mounts == nil` -> `!=`) and :718 (`m.Source !=
// nil` -> `==`, `*m.Source == ""` -> `!=`).
func TestWarnEmptySources(t *testing.T) {
	empty, set := "", "/host"
	bind := func(name string, src *string) plugin.Mount {
		return plugin.Mount{Name: name, Source: src, Destination: "/mnt/" + name, Type: "bind", Options: []string{"rbind"}}
	}
	tests := []struct {
		name     string
		config   []plugin.Mount
		settings []plugin.Mount
		want     []string // mount names warned about
	}{
		{"config only", []plugin.Mount{bind("a", &empty), bind("b", &set)}, nil, []string{"a"}},
		{"settings win", []plugin.Mount{bind("a", &empty)}, []plugin.Mount{bind("a", &set), bind("c", &empty)}, []string{"c"}},
		{"settings set it", []plugin.Mount{bind("a", &empty)}, []plugin.Mount{bind("a", &set)}, nil},
		{"no source", []plugin.Mount{bind("n", nil)}, nil, nil},
		{"not a bind", []plugin.Mount{{Name: "t", Source: &empty, Destination: "/t", Type: "tmpfs"}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := debugLog()
			o := makeOptions([]Option{WithLogger(log)})
			p := Plugin{Config: plugin.Config{Mounts: tt.config}, Settings: plugin.Settings{Mounts: tt.settings}}
			warnEmptySources(o, p)
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if _, m, ok := strings.Cut(l, " mount="); ok {
					got = append(got, strings.Fields(m)[0])
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("warned about %v, want %v; log:\n%s", got, tt.want, buf.String())
			}
		})
	}
}

// TestProcStart: a process's start time is field 22 of /proc/PID/stat, in
// clock ticks since boot: not 0 for this test process, not later than now,
// and a child started now starts no earlier than its parent and within a
// few seconds of the uptime. Kills run_linux.go:689 (`i+1` -> `i-1`: the
// fields shift by one and field 21, always 0, is taken).
func TestProcStart(t *testing.T) {
	uptime := func() float64 {
		data, err := os.ReadFile("/proc/uptime")
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v * 100 // USER_HZ, what /proc reports ticks in on Linux
	}
	self, err := procStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var child syscall.SysProcAttr
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "30"}, &os.ProcAttr{Sys: &child})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill(); p.Wait() }()
	before := uptime()
	got, err := procStart(p.Pid)
	after := uptime()
	if err != nil {
		t.Fatal(err)
	}
	if self == 0 || self > got {
		t.Errorf("procStart(self) = %d, procStart(child) = %d: want 0 < self <= child", self, got)
	}
	if float64(got) > after+1 || float64(got) < before-500 {
		t.Errorf("procStart(child) = %d ticks, uptime %.0f..%.0f ticks: not its start time", got, before, after)
	}
	if _, err := procStart(1 << 30); err == nil {
		t.Error("procStart of a PID no process has: no error")
	}
}

// TestLoadedRunWithoutContainer: a run dir whose record is there but whose
// container never got created (or was destroyed) loads as a run that is
// not running: Running is false, Wait returns at once, Stop removes it.
// A damaged container state is an error. Kills run_linux.go:753
// (`errors.Is(err, libcontainer.ErrNotExist)` negated, and `err != nil`
// -> `==`), :826 and :844 (`i.done != nil` -> `==` in Running and Wait:
// a loaded run would run forever, Wait would block until its ctx ends).
func TestLoadedRunWithoutContainer(t *testing.T) {
	testenv.RequireRoot(t)
	root := testenv.RunRoot(t)
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	dir := filepath.Join(root, runDirName(id))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(record{ID: id, Name: "gone", Pid: 1 << 22, Detached: true})
	if err := os.WriteFile(filepath.Join(dir, stateFile), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	inst, err := Load(id, WithRunRoot(root))
	if err != nil {
		t.Fatalf("Load of a run without a container: %v", err)
	}
	if inst.Running() {
		t.Error("Running() of a run without a container")
	}
	if code := inst.ExitCode(); code != -1 {
		t.Errorf("ExitCode() = %d, want -1 (not known)", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code, err := inst.Wait(ctx); code != -1 || err != nil {
		t.Errorf("Wait = %d, %v; want -1, nil at once", code, err)
	}

	// A container state libcontainer cannot read.
	state := filepath.Join(dir, containerDir, id)
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "state.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(id, WithRunRoot(root)); err == nil || !strings.Contains(err.Error(), "loading container") {
		t.Errorf("Load with a damaged container state: %v, want a loading container error", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, containerDir)); err != nil {
		t.Fatal(err)
	}
	if err := inst.Stop(ctx, time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run dir left: %v", err)
	}
}

// TestKilledPluginLoadsStopped: a plugin whose init died is not running,
// whether asked through the Instance that started it (Wait gives its exit
// code) or through Load (the container is stopped, not destroyed). Kills
// run_linux.go:838 (`st == libcontainer.Running`, `st == Created`, `st ==
// Paused` each -> `!=`), :844 (Wait's `i.done != nil` -> `==`, which
// loses the exit code), :818 (ExitCode's -1 while it runs -> 1) and
// :847 and :853 (Wait's -1 when its context ends -> 1).
func TestKilledPluginLoadsStopped(t *testing.T) {
	p := newPlugin(t, nil)
	root := testenv.RunRoot(t)
	inst := start(t, p, root)
	if code := inst.ExitCode(); code != -1 || !inst.Running() {
		t.Errorf("a running plugin: ExitCode() = %d, Running() = %v; want -1, true", code, inst.Running())
	}
	// Wait gives up when its context ends while the plugin runs, by the
	// Instance that started it or by a loaded one.
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	if code, err := inst.Wait(short); code != -1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait of a running plugin until a deadline = %d, %v; want -1, %v", code, err, context.DeadlineExceeded)
	}
	running, err := Load(p.ID, WithRunRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	if code, err := running.Wait(short); code != -1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait of the loaded run of a running plugin until a deadline = %d, %v; want -1, %v", code, err, context.DeadlineExceeded)
	}
	if err := unix.Kill(inst.Pid(), unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if code, err := inst.Wait(ctx); code != 128+9 || err != nil {
		t.Errorf("Wait = %d, %v; want %d", code, err, 128+9)
	}
	loaded, err := Load(p.ID, WithRunRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Running() {
		t.Error("the loaded run of a killed plugin is Running()")
	}
	if code, err := loaded.Wait(ctx); code != -1 || err != nil {
		t.Errorf("Wait of the loaded run = %d, %v; want -1, nil at once", code, err)
	}
	if err := loaded.Stop(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root, p.ID)
}

// TestLastLinesReadsTheTail: LastLines reads only the log's last 16 KiB,
// however long the log: a line longer than that comes back cut. Kills
// run_linux.go:870 (`fi.Size() > tail` -> `<=`: the whole log is read)
// and the negated offset (`-tail` -> `tail`: a seek past the end reads
// nothing).
func TestLastLinesReadsTheTail(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 100<<10)
	if err := os.WriteFile(filepath.Join(dir, logFile), []byte("first\n"+long+"\nlast\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inst := &Instance{dir: dir, exitCode: -1}
	got := inst.LastLines(3)
	if len(got) != 2 || got[1] != "last" || len(got[0]) != 16<<10-len("\nlast\n") || strings.Trim(got[0], "x") != "" {
		lens := make([]int, len(got))
		for k, l := range got {
			lens[k] = len(l)
		}
		t.Errorf("LastLines(3) gave lines of lengths %v (the last %q), want the tail of the long line cut at 16 KiB and \"last\"", lens, got[len(got)-1:])
	}
}

// TestStopRemovesCgroupParent: stopping the last plugin under a cgroup
// parent removes the parent too, from every hierarchy. Kills
// run_linux.go:923 (`parent == ""` -> `!=`: the parent is never removed).
func TestStopRemovesCgroupParent(t *testing.T) {
	p := newPlugin(t, nil)
	root := testenv.RunRoot(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	parent := "dplug-test-" + hex.EncodeToString(b)
	inst := start(t, p, root, WithCgroupParent(parent))
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent)
	if len(dirs) == 0 {
		t.Fatalf("no cgroup %s while the plugin runs", parent)
	}
	if err := inst.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	for _, d := range append(dirs, "/sys/fs/cgroup/"+parent) {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup parent %s left after the last plugin stopped: %v", d, err)
			_ = unix.Rmdir(d)
		}
	}
	assertClean(t, root, p.ID)
}

// TestStopLogsNoSignalError: a clean Stop, the plugin exiting on SIGTERM,
// logs no failure to signal it. Kills run_linux.go:889 (`err != nil` ->
// `==` for the SIGTERM: "sending SIGTERM" logged when it worked).
func TestStopLogsNoSignalError(t *testing.T) {
	p := newPlugin(t, nil)
	root := testenv.RunRoot(t)
	log, buf := debugLog()
	inst := start(t, p, root, WithLogger(log))
	if err := inst.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "sending SIGTERM") {
		t.Errorf("a clean stop logged a signal error:\n%s", buf.String())
	}
	assertClean(t, root, p.ID)
}

// TestStartErrorNamesThePlugin: a failed start names the plugin by its
// name, or by its ID when it has none. Kills run_linux.go:111 (`name ==
// ""` -> `!=`).
func TestStartErrorNamesThePlugin(t *testing.T) {
	for _, name := range []string{"volplug", ""} {
		t.Run("name="+name, func(t *testing.T) {
			cfg := testplugin.Config()
			cfg.Entrypoint = []string{"/nope"}
			p := newPlugin(t, &cfg)
			p.Name = name
			_, err := Start(context.Background(), p, WithRunRoot(testenv.RunRoot(t)))
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start: %v, want a *StartError", err)
			}
			want := name
			if want == "" {
				want = p.ID
			}
			if se.Plugin != want {
				t.Errorf("StartError.Plugin = %q, want %q", se.Plugin, want)
			}
		})
	}
}

// TestCheckEntrypoint: the entrypoint must be an executable file in the
// rootfs, found as runc finds it: an absolute path as is, a relative one
// with a slash from the config's workdir (or /), a bare name on the PATH
// of the settings' env (or the default PATH). Covers checkEntrypoint's
// relative and PATH branches, which no Start test takes; kills the
// `cwd == ""` -> `!=` mutant (a set workdir ignored).
func TestCheckEntrypoint(t *testing.T) {
	rootfs := t.TempDir()
	for name, mode := range map[string]os.FileMode{
		"work/sub/prog": 0o755, "sub/other": 0o755, "usr/bin/onpath": 0o755, "opt/bin/custom": 0o755,
		"bin/noexec": 0o644, "bin/dir/x": 0o755,
	} {
		f := filepath.Join(rootfs, name)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/work/sub/prog", filepath.Join(rootfs, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		entry   []string
		workdir string
		env     []string
		ok      bool
	}{
		{[]string{"/work/sub/prog"}, "", nil, true},
		{[]string{"/link"}, "", nil, true}, // resolved inside the rootfs
		{[]string{"sub/prog"}, "/work", nil, true},
		{[]string{"./sub/prog"}, "/work", nil, true},
		{[]string{"sub/prog"}, "", nil, false}, // from /, not /work
		{[]string{"sub/other"}, "", nil, true},
		{[]string{"sub/other"}, "/work", nil, false},
		{[]string{"onpath"}, "", nil, true},
		{[]string{"onpath", "arg"}, "/work", []string{"A=b"}, true},
		{[]string{"custom"}, "", nil, false},
		{[]string{"custom"}, "", []string{"PATH=/sbin:/opt/bin"}, true},
		{[]string{"onpath"}, "", []string{"PATH=/opt/bin"}, false}, // the settings' PATH replaces the default
		{[]string{"/bin/noexec"}, "", nil, false},
		{[]string{"noexec"}, "", nil, false},
		{[]string{"/bin/dir"}, "", nil, false},
		{[]string{"/nope"}, "", nil, false},
		{[]string{""}, "", nil, false},
		{nil, "", nil, false},
	}
	for _, tt := range tests {
		p := Plugin{Config: plugin.Config{Entrypoint: tt.entry, WorkDir: tt.workdir}, Settings: plugin.Settings{Env: tt.env}}
		err := checkEntrypoint(rootfs, p)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrNoEntrypoint) {
			t.Errorf("entrypoint %q, workdir %q, env %q: %v, want ok: %v", tt.entry, tt.workdir, tt.env, err, tt.ok)
		}
	}
	// The settings' args replace nothing of the entrypoint but come after
	// it: with no entrypoint, args[0] is the program.
	p := Plugin{Settings: plugin.Settings{Args: []string{"/work/sub/prog"}}}
	if err := checkEntrypoint(rootfs, p); err != nil {
		t.Errorf("no entrypoint, args %q: %v", p.Settings.Args, err)
	}
}

// TestCheckSocketAndDial: a running plugin's socket checks out and can be
// dialled, and CheckSocket keeps no descriptor; once the plugin's socket
// is replaced by a symlink, both refuse it. Covers CheckSocket and Dial
// (kills CheckSocket's `err == nil` -> `!=`: a leaked descriptor per call,
// and a nil release called on failure).
func TestCheckSocketAndDial(t *testing.T) {
	p := newPlugin(t, nil)
	root := testenv.RunRoot(t)
	inst := start(t, p, root)
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	before := fds()
	for range 20 {
		if err := inst.CheckSocket(); err != nil {
			t.Fatalf("CheckSocket of a running plugin: %v", err)
		}
	}
	if after := fds(); after > before+5 {
		t.Errorf("20 CheckSocket calls left %d more descriptors open", after-before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := inst.Dial(ctx)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	c.Close()

	if err := os.Remove(inst.Socket()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/run/elsewhere.sock", inst.Socket()); err != nil {
		t.Fatal(err)
	}
	if err := inst.CheckSocket(); err == nil {
		t.Error("CheckSocket of a symlink: no error")
	}
	if c, err := inst.Dial(ctx); err == nil {
		c.Close()
		t.Error("Dial of a symlink: no error")
	}
	if err := inst.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root, p.ID)
}

// TestPropagatedMountIsShared: a mount the plugin makes below its
// propagated mount appears on the host, below PropagatedMount(), and Stop
// removes it with the run. Kills run_linux.go:564 (makeShared's `err !=
// nil` -> `==` after MkdirAll: the dir is made but never bind-mounted
// shared, so the plugin's mounts stay in its own namespace).
func TestPropagatedMountIsShared(t *testing.T) {
	cfg := testplugin.ModeConfig("mount") // mounts a tmpfs at /mnt/t
	cfg.Linux.Capabilities = []string{"CAP_SYS_ADMIN"}
	cfg.PropagatedMount = "/mnt"
	p := newPlugin(t, &cfg)
	root := testenv.RunRoot(t)
	inst := start(t, p, root)
	if !slices.ContainsFunc(inst.LastLines(20), func(l string) bool { return strings.HasPrefix(l, "mount: ok") }) {
		t.Fatalf("the plugin could not mount; its output: %q", inst.LastLines(20))
	}
	want := filepath.Join(inst.PropagatedMount(), "t")
	mps, err := mountsUnder(inst.PropagatedMount())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(mps, want) {
		t.Errorf("the plugin's mount at /mnt/t is not on the host at %s; mounts there: %q", want, mps)
	}
	if err := inst.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root, p.ID)
}

// TestMountsUnderDeepestFirst: mountsUnder lists dir's own mount and every
// mount below it, deepest first whatever order they were made in, and none
// beside it. Kills run_linux.go:620 (`len(b) - len(a)` -> `+`: every
// comparison says "after", and the list stays in mount order).
func TestMountsUnderDeepestFirst(t *testing.T) {
	testenv.RequireRoot(t)
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "run")
	// In mount order, each made inside the mount before it.
	below := []string{dir, filepath.Join(dir, "a"), filepath.Join(dir, "a", "b"), filepath.Join(dir, "c")}
	beside := filepath.Join(base, "run2")
	for _, mp := range append(below, beside) {
		if err := os.Mkdir(mp, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("tmpfs", mp, "tmpfs", 0, "size=64k"); err != nil {
			testenv.Unavailable(t, "cannot mount a tmpfs: %v", err)
		}
		t.Cleanup(func() { _ = unix.Unmount(mp, unix.MNT_DETACH) })
	}
	got, err := mountsUnder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(got, func(a, b string) int { return len(b) - len(a) }) {
		t.Errorf("mountsUnder(%s) = %q: not deepest first", dir, got)
	}
	want := slices.Clone(below)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("mountsUnder(%s) lists %q, want %q", dir, got, want)
	}
}

// tracerPID is set in the environment of the child process that
// holdExit starts to trace a plugin.
const tracerPID = "DPLUG_TEST_TRACER_PID"

// holdExit makes a child process (this test binary again, as
// TestStopWaitsForTheKill's tracer) the tracer of process pid, which holds
// up its exit: ptrace(2) hands a tracee's exit to its tracer first and to
// its parent (this process, which a tracer of its own would not hold up)
// only once the tracer lets go, when release is called.
func holdExit(t *testing.T, pid int) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStopWaitsForTheKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), tracerPID+"="+strconv.Itoa(pid))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { stdin.Close(); cmd.Wait() }) }
	t.Cleanup(release)
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "seized\n" {
		release()
		t.Fatalf("the tracer did not seize process %d: %q", pid, line)
	}
	return release
}

// TestStopWaitsForTheKill: Stop returns only once the plugin it killed has
// exited, however long that takes after the SIGKILL: when Stop returns, the
// plugin's exit code is known. Here a tracer holds up the exit until 2 s
// after Stop began. Kills run_linux.go:898 (10*time.Second ->
// 10/time.Second = 0: Stop destroys the container and returns before the
// exit is seen).
func TestStopWaitsForTheKill(t *testing.T) {
	if pid := os.Getenv(tracerPID); pid != "" {
		traceUntilEOF(pid)
		return
	}
	p := newPlugin(t, nil)
	root := testenv.RunRoot(t)
	inst := start(t, p, root)
	t.Cleanup(func() { inst.Stop(context.Background(), 0) })
	release := holdExit(t, inst.Pid())
	time.AfterFunc(2*time.Second, release)
	if err := inst.Stop(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if code := inst.ExitCode(); code != 128+9 {
		t.Errorf("ExitCode() right after Stop = %d, want %d: Stop returned before the plugin's exit was seen", code, 128+9)
	}
	assertClean(t, root, p.ID)
}

// traceUntilEOF is holdExit's tracer: it seizes process pid, says
// "seized" on stdout and holds it until stdin ends; its exit detaches the
// tracee.
func traceUntilEOF(pid string) {
	n, err := strconv.Atoi(pid)
	if err == nil {
		runtime.LockOSThread()
		err = unix.PtraceSeize(n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracer:", err)
		os.Exit(2)
	}
	fmt.Println("seized")
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// procStatus is the value of field name in /proc/PID/status ("" if none).
func procStatus(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// waitState polls until process pid's state (in /proc/PID/status) starts
// with one of the letters in states.
func waitState(t *testing.T, pid int, states string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := procStatus(t, pid, "State")
		if st != "" && strings.ContainsRune(states, rune(st[0])) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d is in state %q, not one of %q", pid, st, states)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStopWithoutGraceSendsNoSIGTERM: Stop with no grace period goes
// straight to SIGKILL. The plugin is stopped where it stands (SIGSTOP), so
// that it takes no signal off its queue but the SIGKILL, and a tracer
// keeps it a zombie, whose pending signals can still be read: SIGTERM must
// not be among them. Kills run_linux.go:886 (`grace > 0` -> `>= 0`: a
// SIGTERM, with no time to act on it, before the SIGKILL).
func TestStopWithoutGraceSendsNoSIGTERM(t *testing.T) {
	p := newPlugin(t, nil)
	root := testenv.RunRoot(t)
	inst := start(t, p, root)
	t.Cleanup(func() { inst.Stop(context.Background(), 0) })
	pid := inst.Pid()
	release := holdExit(t, pid)
	if err := unix.Kill(pid, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, pid, "tT")
	stopped := make(chan error, 1)
	go func() { stopped <- inst.Stop(context.Background(), 0) }()
	waitState(t, pid, "Z")
	pending := procStatus(t, pid, "ShdPnd") + " " + procStatus(t, pid, "SigPnd")
	release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	for _, hex := range strings.Fields(pending) {
		mask, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			t.Fatalf("pending signals %q: %v", pending, err)
		}
		if mask&(1<<(unix.SIGTERM-1)) != 0 {
			t.Errorf("Stop(ctx, 0) sent SIGTERM (pending signals of the killed plugin: %s)", pending)
		}
	}
	assertClean(t, root, p.ID)
}
