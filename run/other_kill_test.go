//go:build cgo

package run

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

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
			t.Errorf("%+v.String() = %q, want %q", tc.l, got, tc.want)
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
		} {
			f, err := open(dir, tc.rel)
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
		if got := splitPath(in); !slices.Equal(got, want) {
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
