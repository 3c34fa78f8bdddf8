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
// with the reason.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but: "+format, args...)
	}
	t.Skipf(format, args...)
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

// Short skips t under `go test -short`, even in CI: for the slowest tiers,
// which `make test` always runs in full.
func Short(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
}
