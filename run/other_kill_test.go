//go:build cgo

package run

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/internal/testenv"
)

// Tests for the mutants that survived the measured run of logs.go,
// release.go, run.go, doctor_linux.go, socket_linux.go and reexec_linux.go
// (issue #13); each names the mutant it kills.

// TestStartErrorText: an exit code of 0 is a real exit code and is shown
// (ExitCode >= 0, run.go); no output means no "last output:" (len(Log) > 0).
func TestStartErrorText(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    StartError
		want string
	}{
		{"not exited", StartError{Plugin: "p", Err: ErrNoSocket, ExitCode: -1}, "starting plugin p: socket never appeared"},
		{"exit 0", StartError{Plugin: "p", Err: ErrExited, ExitCode: 0}, "starting plugin p: plugin exited early (exit code 0)"},
		{"exit 3 with output", StartError{Plugin: "p", Err: ErrExited, ExitCode: 3, Log: []string{"a", "b"}},
			"starting plugin p: plugin exited early (exit code 3); last output:\n    a\n    b"},
		{"empty log", StartError{Plugin: "p", Err: ErrExited, ExitCode: 1, Log: []string{}}, "starting plugin p: plugin exited early (exit code 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLastLines: the last n non-empty lines, fewer when there are fewer.
func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		data string
		n    int
		want []string
	}{
		{"", 3, nil},
		{"a\n\n  \nb\n", 3, []string{"a", "b"}},
		{"a\nb\nc\n", 3, []string{"a", "b", "c"}},
		{"a\nb\nc\nd\ne\n", 2, []string{"d", "e"}},
		{"a\nb\nc", 1, []string{"c"}},
	} {
		if got := lastLines([]byte(tc.data), tc.n); !cmp.Equal(got, tc.want) {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.data, tc.n, got, tc.want)
		}
	}
}

// TestLeftoverString: the line `dplug doctor` prints names the plugin, or
// the run dir when the record is gone, and says whether it was fixed.
func TestLeftoverString(t *testing.T) {
	for _, tc := range []struct {
		l    Leftover
		want string
	}{
		{Leftover{Name: "vol", Dir: "/r/abc", Reason: "gone"}, "found leftover run of vol: gone"},
		{Leftover{Dir: "/r/abc", Reason: "no record"}, "found leftover run of /r/abc: no record"},
		{Leftover{Name: "vol", Dir: "/r/abc", Reason: "gone", Fixed: true}, "stopped and removed leftover run of vol: gone"},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("Leftover{Name: %q, Dir: %q, Fixed: %v}.String() = %q, want %q", tc.l.Name, tc.l.Dir, tc.l.Fixed, got, tc.want)
		}
	}
}

// TestIsContainerInitArgs: a program started with no arguments is not
// libcontainer's init and does not index past os.Args (len(os.Args) > 1,
// reexec_linux.go); "init" needs both of libcontainer's pipes.
func TestIsContainerInitArgs(t *testing.T) {
	saved := os.Args
	t.Cleanup(func() { os.Args = saved })
	for _, tc := range []struct {
		args       []string
		init, sync string
		want       bool
	}{
		{[]string{"dplug"}, "3", "4", false},
		{[]string{"dplug", "init"}, "3", "4", true},
		{[]string{"dplug", "run"}, "3", "4", false},
		{[]string{"dplug", "init"}, "", "4", false},
		{[]string{"dplug", "init"}, "3", "", false},
	} {
		t.Setenv("_LIBCONTAINER_INITPIPE", tc.init)
		t.Setenv("_LIBCONTAINER_SYNCPIPE", tc.sync)
		os.Args = tc.args
		got := IsContainerInit()
		os.Args = saved
		if got != tc.want {
			t.Errorf("IsContainerInit with args %q, pipes %q %q = %v, want %v", tc.args, tc.init, tc.sync, got, tc.want)
		}
	}
}

// sockTree makes a socket dir holding a listening socket at s and a/s,
// a regular file f, a dir d, a symlink l to s and a symlinked dir ld to a.
func sockTree(t *testing.T) string {
	t.Helper()
	dir := testenv.ShortDir(t)
	if err := os.Mkdir(filepath.Join(dir, "a"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"s", "a/s"} {
		l, err := net.Listen("unix", filepath.Join(dir, s))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "s"), filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "ld")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOpenSocketKinds: openSocket and the Lstat walk for kernels without
// openat2 agree: a socket (also in a subdir) opens, nothing or no socket
// there is errNoSocketYet, a symlink (at the end or on the way) is
// ErrSocketOutside. The Lstat walk only runs on old kernels, so it is
// called directly.
func TestOpenSocketKinds(t *testing.T) {
	dir := sockTree(t)
	for name, open := range map[string]func(string, string) (*os.File, error){"openat2": openSocket, "lstat": openSocketLstat} {
		for _, tc := range []struct {
			rel  string
			want error // nil: opened
		}{
			{"s", nil},
			{"a/s", nil},
			{"./a/s", nil},
			{"none", errNoSocketYet},
			{"a/none", errNoSocketYet},
			{"none/s", errNoSocketYet},
			{"f", errNoSocketYet},
			{"d", errNoSocketYet},
			{"l", ErrSocketOutside},
			{"ld/s", ErrSocketOutside},
			{"f/s", unix.ENOTDIR}, // neither: the error as it is
		} {
			var f *os.File
			var err error
			within(t, 10*time.Second, func() { f, err = open(dir, tc.rel) })
			if tc.want == nil {
				if err != nil {
					t.Errorf("%s %s: %v, want the socket", name, tc.rel, err)
					continue
				}
				var st os.FileInfo
				if st, err = f.Stat(); err != nil || st.Mode()&os.ModeSocket == 0 {
					t.Errorf("%s %s: opened %v (%v), not a socket", name, tc.rel, st, err)
				}
				f.Close()
				continue
			}
			if f != nil {
				f.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("%s %s: %v, want %v", name, tc.rel, err, tc.want)
			}
		}
	}
	if _, err := openSocket(filepath.Join(dir, "missing"), "s"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("openSocket in a missing dir: %v, want not exist", err)
	}
}

// within runs f and fails t if it does not return within d (a mutant
// that makes a loop endless must not hang the test).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
	}
}

// TestSplitPath: the components of a relative socket path, in order.
func TestSplitPath(t *testing.T) {
	for in, want := range map[string][]string{
		"s":       {"s"},
		"a/b/s":   {"a", "b", "s"},
		"./a//s":  {"a", "s"},
		"a/./b/":  {"a", "b"},
		"/a/s":    {"a", "s"},
		"":        nil,
		".":       nil,
		"a/../s":  {"s"},
		"x/y/z/w": {"x", "y", "z", "w"},
	} {
		var got []string
		within(t, 10*time.Second, func() { got = splitPath(in) })
		if !slices.Equal(got, want) {
			t.Errorf("splitPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPinSocket: the pinned path reaches the checked socket until release;
// a socket path that is no socket any more is refused.
func TestPinSocket(t *testing.T) {
	runDir := testenv.ShortDir(t)
	sockDir := filepath.Join(runDir, sockDirName)
	if err := os.MkdirAll(filepath.Join(sockDir, "a"), 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(sockDir, "a", "p.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	inst := &Instance{dir: runDir, rec: record{Socket: sock}}
	path, release, err := inst.PinSocket()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Errorf("dialling the pinned path %s: %v", path, err)
	} else {
		c.Close()
	}
	release()
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s still open after release", path)
	}

	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := inst.PinSocket(); err == nil || err.Error() != sock+" is not a socket any more" {
		t.Errorf("PinSocket of a regular file: %v", err)
	}
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(sockDir, "elsewhere"), sock); err != nil {
		t.Fatal(err)
	}
	if _, _, err := inst.PinSocket(); !errors.Is(err, ErrSocketOutside) {
		t.Errorf("PinSocket of a symlink: %v, want ErrSocketOutside", err)
	}
}

// killInit kills the init of a run this process started and waits for it.
func killInit(t *testing.T, inst *Instance) {
	t.Helper()
	if err := inst.container.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inst.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin still runs after SIGKILL")
	}
}

// TestReleaseStops: with force, Release stops a running plugin and
// removes its run; without force, a run whose plugin exited is cleaned up
// and is no error (Stop's err != nil, release.go).
func TestReleaseStops(t *testing.T) {
	ctx := context.Background()
	t.Run("force", func(t *testing.T) {
		p := newPlugin(t, nil)
		root := testenv.RunRoot(t)
		inst := start(t, p, root)
		if err := Release(ctx, p.ID, "vol", true, WithRunRoot(root)); err != nil {
			t.Fatalf("Release --force of a running plugin: %v", err)
		}
		select {
		case <-inst.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the plugin still runs after Release --force")
		}
		assertClean(t, root, p.ID)
	})
	t.Run("exited", func(t *testing.T) {
		p := newPlugin(t, nil)
		root := testenv.RunRoot(t)
		inst := start(t, p, root)
		killInit(t, inst)
		if err := Release(ctx, p.ID, "vol", false, WithRunRoot(root)); err != nil {
			t.Fatalf("Release of a run whose plugin exited: %v", err)
		}
		assertClean(t, root, p.ID)
	})
}

// TestDoctorReasons: every kind of leftover is reported with its own
// reason (the cases of checkRun), entries that are no run dir are left
// alone, healthy runs are not reported, and fixing stops an orphaned
// plugin with SIGTERM first (cleanRun's 2 s grace).
func TestDoctorReasons(t *testing.T) {
	ctx := context.Background()
	root := testenv.RunRoot(t)
	gone := 1<<22 + 1 // a PID no process has
	orphan := start(t, newPlugin(t, nil), root, WithStdout(io.Discard))
	orphan.rec.Owner, orphan.rec.OwnerStart = gone, 1
	exited := start(t, newPlugin(t, nil), root)
	exited.rec.Owner, exited.rec.OwnerStart = gone, 1
	killInit(t, exited)
	detachedExited := start(t, newPlugin(t, nil), root)
	killInit(t, detachedExited)
	detachedExited.rec.Detached = true
	healthy := start(t, newPlugin(t, nil), root)
	healthyDetached := start(t, newPlugin(t, nil), root)
	healthyDetached.rec.Detached = true
	for _, inst := range []*Instance{orphan, exited, detachedExited, healthyDetached} {
		if err := inst.writeRecord(); err != nil {
			t.Fatal(err)
		}
	}
	damaged := filepath.Join(root, "0123456789ab")
	if err := os.MkdirAll(damaged, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(damaged, stateFile), []byte(`{"id":"ffffffffffff0000"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Not run dirs: a file with a run dir's name, a dir with another name.
	notDirs := []string{filepath.Join(root, "abcdefabcdef"), filepath.Join(root, "not a run")}
	if err := os.WriteFile(notDirs[0], nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(notDirs[1], 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range notDirs {
			os.Remove(p)
		}
	})

	want := map[string]string{
		orphan.Dir():         fmt.Sprintf("the dplug process that ran it in the foreground (pid %d) is gone; the plugin still runs", gone),
		exited.Dir():         fmt.Sprintf("the dplug process that ran it (pid %d) is gone", gone),
		detachedExited.Dir(): "the plugin exited; its run was never stopped",
		damaged:              "run dir with a damaged record",
	}
	for _, fix := range []bool{false, true} {
		got, err := Doctor(ctx, fix, WithRunRoot(root))
		if err != nil {
			t.Fatalf("Doctor(fix=%v): %v", fix, err)
		}
		reasons := map[string]string{}
		for _, l := range got {
			reasons[l.Dir] = l.Reason
			if l.Fixed != fix {
				t.Errorf("Doctor(fix=%v): %s has Fixed=%v", fix, l.Dir, l.Fixed)
			}
		}
		if diff := cmp.Diff(want, reasons); diff != "" {
			t.Errorf("Doctor(fix=%v) reasons (-want +got):\n%s", fix, diff)
		}
	}
	select {
	case <-orphan.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the orphaned plugin still runs after Doctor --fix")
	}
	// volplug exits 2 (or dies of the signal) on SIGTERM, 137 on SIGKILL.
	if code := orphan.ExitCode(); code != 2 && code != 128+15 {
		t.Errorf("the orphaned plugin's exit code %d: not stopped with SIGTERM first", code)
	}
	for _, d := range []string{orphan.Dir(), exited.Dir(), detachedExited.Dir(), damaged} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover %s not removed: %v", d, err)
		}
	}
	for _, p := range notDirs {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Doctor --fix touched %s, which is no run dir: %v", p, err)
		}
	}
	for _, inst := range []*Instance{healthy, healthyDetached} {
		if !inst.Running() {
			t.Errorf("Doctor --fix stopped the healthy run %s", inst.Dir())
		}
		if err := inst.Stop(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDoctorRunRoot: no run root is nothing to report; a run root that
// cannot be read is an error.
func TestDoctorRunRoot(t *testing.T) {
	dir := t.TempDir()
	if got, err := Doctor(context.Background(), true, WithRunRoot(filepath.Join(dir, "none"))); err != nil || got != nil {
		t.Errorf("Doctor of a missing run root: %v, %v", got, err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Doctor(context.Background(), true, WithRunRoot(file)); err == nil || !strings.Contains(err.Error(), "checking runs") {
		t.Errorf("Doctor of a run root that is a file: %v", err)
	}
}

// TestKillCgroupThaws: a frozen cgroup is thawed (v1 freezer:
// freezer.state != "THAWED") or killed frozen (v2: cgroup.kill) so that
// the process dies and the cgroup can go.
func TestKillCgroupThaws(t *testing.T) {
	testenv.RequireRoot(t)
	// v1: the freezer hierarchy; v2: the unified root.
	base, stateName, freeze, frozen := "/sys/fs/cgroup/freezer", "freezer.state", "FROZEN", "FROZEN"
	thaw := func(dir string) { _ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0) }
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		base, stateName, freeze, frozen = "/sys/fs/cgroup", "cgroup.freeze", "1", "1"
		thaw = func(dir string) { _ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0) }
	} else if _, err := os.Stat(filepath.Join(base, "tasks")); err != nil {
		testenv.Unavailable(t, "neither cgroup v2 nor a v1 freezer hierarchy: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	parent, id := "dplug-test-"+hex.EncodeToString(b), "0123456789abcdef"
	dir := filepath.Join(base, parent, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		testenv.Unavailable(t, "cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() {
		thaw(dir)
		unix.Rmdir(dir)
		unix.Rmdir(filepath.Dir(dir))
	})
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill() })
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(itoa(cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateName), []byte(freeze), 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := os.ReadFile(filepath.Join(dir, stateName))
		if strings.TrimSpace(string(st)) == frozen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cgroup never froze: %q", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	killCgroup(parent, id)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the frozen process survived")
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s left: %v", d, err)
		}
	}
}

// fsImmutableFL is FS_IMMUTABLE_FL of linux/fs.h (x/sys/unix lacks it).
const fsImmutableFL = 0x10

// setImmutable sets or clears the immutable attribute of path (chattr +i),
// which makes it impossible even for root to remove.
func setImmutable(path string, on bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		return err
	}
	if on {
		flags |= fsImmutableFL
	} else {
		flags &^= fsImmutableFL
	}
	v := int(flags)
	return unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, v)
}

// TestDoctorFixFails: a leftover whose run dir cannot be removed is not
// reported fixed and makes Doctor fail (cleanRun goes on to the cleanup
// without a record when Stop fails: its err == nil); once it can be
// removed, the next fix removes it.
func TestDoctorFixFails(t *testing.T) {
	ctx := context.Background()
	root := testenv.RunRoot(t)
	inst := start(t, newPlugin(t, nil), root)
	inst.rec.Owner, inst.rec.OwnerStart = 1<<22+1, 1
	if err := inst.writeRecord(); err != nil {
		t.Fatal(err)
	}
	pinned := filepath.Join(inst.Dir(), "pinned")
	if err := os.WriteFile(pinned, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := setImmutable(pinned, true); err != nil {
		testenv.Unavailable(t, "cannot make a file immutable in %s: %v", root, err)
	}
	t.Cleanup(func() { _ = setImmutable(pinned, false) })
	got, err := Doctor(ctx, true, WithRunRoot(root))
	if err == nil || !strings.Contains(err.Error(), "cleaning run "+inst.Dir()) || len(got) != 1 || got[0].Fixed {
		t.Errorf("Doctor --fix of a run dir that cannot go: %+v, %v; want it not fixed and an error", got, err)
	}
	if err := setImmutable(pinned, false); err != nil {
		t.Fatal(err)
	}
	got, err = Doctor(ctx, true, WithRunRoot(root))
	if err != nil || len(got) != 1 || !got[0].Fixed {
		t.Errorf("Doctor --fix once the run dir can go: %+v, %v", got, err)
	}
	if _, err := os.Stat(inst.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run dir left: %v", err)
	}
}

// TestDoctorRecordLost: a run dir whose record is gone but whose container
// runs (a start killed between the two) is fixed through the container's
// state dir: the plugin is killed and its run dir removed. With
// no record, Doctor does not know the run's cgroup parent: a run started
// under another one is still killed (by libcontainer, cleanRun's
// Load err == nil), not only by the cgroup sweep.
func TestDoctorRecordLost(t *testing.T) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for _, parent := range []string{DefaultCgroupParent, "dplug-test-" + hex.EncodeToString(b)} {
		t.Run(parent, func(t *testing.T) {
			root := testenv.RunRoot(t)
			p := newPlugin(t, nil)
			inst := start(t, p, root, WithCgroupParent(parent))
			if err := os.Remove(filepath.Join(inst.Dir(), stateFile)); err != nil {
				t.Fatal(err)
			}
			// Something that is no container ID in the container dir is ignored.
			if err := os.Mkdir(filepath.Join(inst.Dir(), containerDir, "not an id"), 0o700); err != nil {
				t.Fatal(err)
			}
			got, err := Doctor(context.Background(), true, WithRunRoot(root))
			if err != nil || len(got) != 1 || !got[0].Fixed || got[0].Reason != "run dir without a record (its start was interrupted)" {
				t.Fatalf("Doctor --fix: %+v, %v; want the run without a record, fixed", got, err)
			}
			select {
			case <-inst.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the plugin of the run without a record still runs after Doctor --fix")
			}
			if _, err := os.Stat(inst.Dir()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("run dir left: %v", err)
			}
		})
	}
}

// killPIDZeroChild is set in the environment of the child process that
// TestKillCgroupSkipsPIDZero starts.
const killPIDZeroChild = "DPLUG_TEST_KILLCGROUP_PID0_CHILD"

// TestKillCgroupSkipsPIDZero: on cgroup v2, cgroup.procs lists a process
// outside the reader's PID namespace as 0, and killCgroup must not pass
// that on to kill(2), where PID 0 means the caller's own process group.
// The test binary re-runs itself as a child in a mount namespace of its
// own and process group of its own, with a tmpfs over /sys/fs/cgroup whose
// cgroup.procs lists only 0 (this also works on a cgroup v1 machine, where
// 0 never appears); the child must live through killCgroup. Kills
// doctor_linux.go:155 (`n > 0` -> `n >= 0`: the child kills its own
// process group and dies of SIGKILL).
func TestKillCgroupSkipsPIDZero(t *testing.T) {
	testenv.RequireRoot(t)
	if os.Getenv(killPIDZeroChild) != "" {
		killPIDZero()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKillCgroupSkipsPIDZero$", "-test.count=1")
	cmd.Env = append(os.Environ(), killPIDZeroChild+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Setpgid: true}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			t.Fatalf("killCgroup of a cgroup listing PID 0 killed its own process group (kill(0, SIGKILL)); child output:\n%s", out)
		}
	}
	if err != nil {
		t.Fatalf("child: %v; output:\n%s", err, out)
	}
}

// killPIDZero is TestKillCgroupSkipsPIDZero's child: it fakes a cgroup
// whose cgroup.procs lists PID 0 and calls killCgroup on it, in its own
// mount namespace. It exits 0 if killCgroup returns.
func killPIDZero() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	// Nothing mounted here may reach the parent's namespace.
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		fail(err)
	}
	if err := unix.Mount("tmpfs", "/sys/fs/cgroup", "tmpfs", 0, "size=1m"); err != nil {
		fail(err)
	}
	parent, id := "dplug-test", "0123456789abcdef"
	dir := filepath.Join("/sys/fs/cgroup", parent, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	for name, data := range map[string]string{"cgroup.procs": "0\n", "cgroup.kill": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			fail(err)
		}
	}
	killCgroup(parent, id)
	os.Exit(0)
}
