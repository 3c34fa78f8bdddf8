package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where nothing that
// needs root or a daemon may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t on a developer machine, or fails it under CI=true,
// with the reason. It is the only way a test may skip for want of something
// from its environment (root, a device, a program, a pty): CI provides all of
// them, so a skip there is a bug in CI or in the test.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but: "+format, args...)
	}
	t.Skipf(format, args...)
}

// Need skips t on a developer machine, or fails it under CI=true, unless ok;
// format and args say what the test needs and how to get it, e.g.
//
//	testenv.Need(t, err == nil, "a pty: %v", err)
func Need(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		Unavailable(t, "needs "+format, args...)
	}
}

// RequireRoot skips (fails in CI) unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root")
	}
}

// RequireBinary returns the path of a program on PATH, skipping (failing in
// CI) when it is missing, with the command that installs it.
func RequireBinary(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not found on PATH (install: %s)", name, install)
	}
	return p
}

// RequireDevice skips (fails in CI) unless the device node path exists;
// mknod says how to make it (`mknod -m 666 /dev/fuse c 10 229`).
func RequireDevice(t testing.TB, path, mknod string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Unavailable(t, "needs the device %s (make it: %s): %v", path, mknod, err)
	}
}

// Short skips t under `go test -short`, even in CI: for the slowest tiers,
// which `make test` always runs in full.
func Short(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
}

// IsRoot reports whether the tests run as root: for the CLI scripts'
// [root] condition and `need root` command, which cannot take a
// testing.TB (use RequireRoot in Go tests).
func IsRoot() bool { return os.Geteuid() == 0 }

// ScriptT is what UnavailableScript needs of testscript's T.
type ScriptT interface {
	Skip(args ...any)
	Fatal(args ...any)
}

// UnavailableScript is Unavailable for a CLI script (testscript's T, see
// cmd/dplug/cli's `need` command): it skips the script on a developer
// machine, or fails it under CI=true, with the reason.
func UnavailableScript(t ScriptT, reason string) {
	if InCI() {
		t.Fatal("CI=true but: " + reason)
	}
	t.Skip(reason)
}
