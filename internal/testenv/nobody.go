package testenv

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// NobodyUID and NobodyGID are the IDs RunAsNobody runs a test as (Debian's
// nobody:nogroup).
const (
	NobodyUID = 65534
	NobodyGID = 65534
)

// nobodyEnv marks the child process RunAsNobody starts.
const nobodyEnv = "DPLUG_TESTENV_NOBODY"

// RunAsNobody makes the test t check unprivileged behaviour even when the
// suite runs as root (as CI does):
//
//	func TestStripsSetuidUnprivileged(t *testing.T) {
//		if testenv.RunAsNobody(t) {
//			return // it ran as nobody in a child process
//		}
//		... // runs as an unprivileged user
//	}
//
// Not root, it returns false: the test goes on as the current user. As root,
// it runs t alone (-test.run) in a copy of the test binary as nobody (uid and
// gid 65534, no supplementary groups, via util-linux's setpriv) with its own
// HOME and TMPDIR, fails t if that run fails or does not run t, and returns
// true. Without setpriv it skips (fails under CI=true).
func RunAsNobody(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	if os.Getenv(nobodyEnv) != "" {
		t.Fatalf("%s is set but the test still runs as root", nobodyEnv)
	}
	setpriv := RequireBinary(t, "setpriv", "apt-get install util-linux")
	dir, err := os.MkdirTemp("", "dplug-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, NobodyUID, NobodyGID); err != nil {
		t.Fatal(err)
	}
	// The go command builds the test binary in a directory only root can
	// enter: nobody runs a link or a copy.
	bin := filepath.Join(dir, filepath.Base(os.Args[0]))
	if err := copyExecutable(os.Args[0], bin); err != nil {
		t.Fatalf("copying the test binary for nobody: %v", err)
	}

	var run []string
	for _, elem := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(elem)+"$")
	}
	args := []string{"--reuid=" + fmt.Sprint(NobodyUID), "--regid=" + fmt.Sprint(NobodyGID), "--clear-groups", "--",
		bin, "-test.run=" + strings.Join(run, "/"), "-test.count=1", "-test.v=true"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(setpriv, args...)
	cmd.Env = append(withoutEnv(os.Environ(), "HOME", "TMPDIR", "XDG_RUNTIME_DIR", "GOCOVERDIR", nobodyEnv),
		"HOME="+tmp, "TMPDIR="+tmp, nobodyEnv+"=1")
	// The test runs in its package directory, as under go test, when nobody
	// can reach it; otherwise in its temp dir (it then cannot read testdata).
	cmd.Dir = tmp
	if wd, err := os.Getwd(); err == nil && worldSearchable(wd) {
		cmd.Dir = wd
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as nobody (%s): %v\n%s", t.Name(), strings.Join(cmd.Args, " "), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("%s did not run as nobody (%s):\n%s", t.Name(), strings.Join(cmd.Args, " "), out)
	}
	t.Logf("ran as nobody (uid %d):\n%s", NobodyUID, out)
	return true
}

// AsNobody reports whether this process is the child RunAsNobody started.
func AsNobody() bool { return os.Getenv(nobodyEnv) != "" && os.Geteuid() == NobodyUID }

// copyExecutable links src at dst when it can (same filesystem, and the
// binary itself executable by others), and copies it otherwise.
func copyExecutable(src, dst string) error {
	if fi, err := os.Stat(src); err == nil && fi.Mode().Perm()&0o005 == 0o005 && os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func withoutEnv(env []string, names ...string) []string {
	var kept []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		kept = append(kept, kv)
	}
	return kept
}

// worldSearchable reports whether every directory from / down to dir lets
// others in.
func worldSearchable(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}
