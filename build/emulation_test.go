package build_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// archProgram writes its GOARCH to /arch.txt: run by a RUN step, it shows
// which architecture executed it.
const archProgram = `package main

import (
	"os"
	"runtime"
)

func main() {
	if err := os.WriteFile("/arch.txt", []byte(runtime.GOARCH+"\n"), 0o644); err != nil {
		panic(err)
	}
}
`

// runProject is a build context whose Dockerfile RUNs a static binary for
// goarch (exec form: no shell in the image), and whose plugin entrypoint
// is that binary.
func runProject(t *testing.T, goarch string) string {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(archProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/arch\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testplugin.Config()
	cfg.Entrypoint = []string{"/arch"}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := project(t, map[string]string{
		"Dockerfile":  "FROM scratch\nCOPY arch /arch\nRUN [\"/arch\"]\n",
		"config.json": string(data),
	})
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "arch"), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", goarch, err, out)
	}
	return dir
}

// TestRunWithoutEmulation: a RUN of a binary for a platform this machine
// cannot execute fails with one line naming both fixes. s390x: no CI host
// is one, and TestEmulatedRun registers only aarch64.
func TestRunWithoutEmulation(t *testing.T) {
	if entrypoint.Emulated("s390x") || entrypoint.Host() == "linux/s390x" {
		testenv.Unavailable(t, "s390x binaries run here: the test needs a platform this machine cannot execute")
	}
	e := setup(t)
	dir := runProject(t, "s390x")
	_, err := build.Run(context.Background(), dir, &dest.Dir{Path: filepath.Join(t.TempDir(), "out")}, e.opts(t, build.WithPlatforms("linux/s390x"))...)
	var ee *build.EmulationError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want an EmulationError", err)
	}
	msg := err.Error()
	t.Logf("the error:\n%s", msg)
	last := msg[strings.LastIndex(msg, "\n")+1:]
	for _, want := range []string{"FROM --platform=$BUILDPLATFORM", "GOOS=$TARGETOS GOARCH=$TARGETARCH", "qemu-user-static"} {
		if !strings.Contains(last, want) {
			t.Errorf("last line %q lacks %q", last, want)
		}
	}
	if !strings.Contains(msg, "exec format error") {
		t.Errorf("error lacks BuildKit's cause:\n%s", msg)
	}
}

// qemuAarch64 is Debian qemu-user-static's binfmt_misc rule for aarch64
// (the F flag opens the interpreter now, so it works inside containers).
const qemuAarch64 = "/usr/lib/binfmt.d/qemu-aarch64.conf"

// TestEmulatedRun builds for linux/arm64 with a RUN that executes an
// arm64 binary, under qemu-user-static's binfmt_misc handler: the build
// works, and the RUN really ran as arm64. If the handler is not
// registered, the test registers it from Debian's rule and removes it
// afterwards. Needs root, buildkitd and qemu-user-static.
func TestEmulatedRun(t *testing.T) {
	if entrypoint.Host() == "linux/arm64" {
		testenv.Unavailable(t, "arm64 is native here: the test needs an emulated platform")
	}
	e := setup(t)
	testenv.RequireRoot(t)
	rule, err := os.ReadFile(qemuAarch64)
	if err != nil {
		testenv.Unavailable(t, "qemu-user-static is not installed (%v): apt-get install qemu-user-static", err)
	}
	if !entrypoint.Emulated("arm64") {
		registerBinfmt(t, strings.TrimSpace(string(rule)))
	}
	dir := runProject(t, "arm64")
	out := filepath.Join(t.TempDir(), "out")
	if _, err := build.Run(context.Background(), dir, &dest.Dir{Path: out}, e.opts(t, build.WithPlatforms("linux/arm64"))...); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "rootfs", "arch.txt")); got != "arm64\n" {
		t.Errorf("arch.txt = %q, want the RUN to have run as arm64", got)
	}
}

// registerBinfmt registers a binfmt_misc rule (":name:type:..."), mounting
// binfmt_misc if needed, and unregisters it when the test ends.
func registerBinfmt(t *testing.T, rule string) {
	t.Helper()
	const dir = "/proc/sys/fs/binfmt_misc"
	if _, err := os.Stat(dir + "/register"); err != nil {
		if out, err := exec.Command("mount", "-t", "binfmt_misc", "binfmt_misc", dir).CombinedOutput(); err != nil {
			testenv.Unavailable(t, "binfmt_misc cannot be mounted: %v %s", err, out)
		}
	}
	name := strings.Split(rule, ":")[1]
	if err := os.WriteFile(dir+"/register", []byte(rule), 0o200); err != nil {
		testenv.Unavailable(t, "registering %s with binfmt_misc: %v", name, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(dir+"/"+name, []byte("-1"), 0o200); err != nil {
			t.Errorf("unregistering %s: %v", name, err)
		}
	})
}
