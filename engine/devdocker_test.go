package engine_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
)

// devGID is the test's stand-in for the docker group: the engine's socket
// is root:devGID 0660 and the unprivileged user has it as a supplementary
// group, as a laptop's user in the docker group does.
const devGID = 4242

// TestDevDockerOnlyEngine is issue 15's "done when": on a machine with only
// a Docker Engine (no buildkitd on PATH, dplug never started one) and a
// non-root user in the docker group, `dplug dev --docker examples/volume`
// builds with the engine's BuildKit, loads, enables and tests the plugin,
// then rebuilds and tests it again after one edit; Ctrl-C removes it from
// the engine. The user cannot reach the engine's plugin sockets, so the
// test step goes through the engine's API (a volume created, inspected and
// removed). The Go base image comes from a loopback registry (no Docker
// Hub here), as in TestCIRecipe.
func TestDevDockerOnlyEngine(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "setpriv", "apt-get install util-linux")
	repo, bin := buildPublicDplug(t)
	goimg := testenv.GoImage(t)
	goproxy, _ := exec.Command("go", "env", "GOPROXY").Output()

	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		d := testenv.StartDockerdEngine(t, e)
		reg := testenv.StartRegistry(t)
		if err := testenv.PushRef(goimg.Image, reg.Host+"/golang:1.26"); err != nil {
			t.Fatal(err)
		}
		home, proj := groupSocketAndProject(t, d, repo)
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
		defer cancel()
		// PATH has no buildkitd (dplug's own builder is not installed), and
		// the user is nobody with the socket's group only.
		cmd := exec.CommandContext(ctx, "setpriv", "--reuid=65534", "--regid=65534", fmt.Sprintf("--groups=%d", devGID),
			"env", "-i", "PATH=/usr/bin:/bin", "HOME="+home, "DOCKER_HOST="+d.Host,
			bin, "dev", "--docker", "--debounce", "100ms", "--network", "host",
			"--build-arg", "GO_IMAGE="+reg.Host+"/golang:1.26", "--build-arg", "GOPROXY="+strings.TrimSpace(string(goproxy)), proj)
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
		var out testenv.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		waitLine(t, &out, done, "dev: #1 ", d)
		main := filepath.Join(proj, "main.go")
		src, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(main, append(src, "\n// an edit\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		waitLine(t, &out, done, "dev: #2 ", d)
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Errorf("dplug dev after Ctrl-C: %v\n%s", err, out.String())
		}
		checkDevLog(t, out.String(), e, d)
	})
}

// checkDevLog checks dplug dev's output: two iterations (start, edit)
// that built, loaded and passed through the engine's API, the reason said,
// and no plugin left in the engine after Ctrl-C.
func checkDevLog(t *testing.T, log string, e testenv.Engine, d *testenv.Dockerd) {
	t.Helper()
	t.Logf("dplug dev --docker as nobody on engine %s:\n%s", e.Name, log)
	for _, n := range []string{"1", "2"} {
		line := lineOf(log, "dev: #"+n+" ")
		for _, want := range []string{"build ", "· load ", "· test ", "PASS via the engine API (volume ok)"} {
			if !strings.Contains(line, want) {
				t.Errorf("iteration %s lacks %q: %s", n, want, line)
			}
		}
	}
	if !strings.Contains(log, "testing through the engine's API only") || !strings.Contains(log, "only root may enter") {
		t.Errorf("dev does not say why it tests through the engine's API:\n%s", log)
	}
	if ls := d.MustDocker(t, "plugin", "ls", "--format", "{{.Name}}"); strings.TrimSpace(ls) != "" {
		t.Errorf("Ctrl-C left plugins in the engine: %s", ls)
	}
}

// groupSocketAndProject gives the engine's socket to devGID (root:devGID
// 0660, its dir searchable) and copies examples/volume into a home dir
// owned by nobody.
func groupSocketAndProject(t *testing.T, d *testenv.Dockerd, repo string) (home, proj string) {
	t.Helper()
	sock := strings.TrimPrefix(d.Host, "unix://")
	if err := os.Chown(sock, 0, devGID); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{sock: 0o660, filepath.Dir(sock): 0o711} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	home = publicDir(t)
	proj = filepath.Join(home, "volume")
	if out, err := exec.Command("cp", "-r", filepath.Join(repo, "examples", "volume"), proj).CombinedOutput(); err != nil {
		t.Fatalf("copying the example: %v\n%s", err, out)
	}
	if out, err := exec.Command("chown", "-R", "65534:65534", home).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	return home, proj
}

// waitLine waits for a complete output line starting with prefix, failing
// if dplug exits first.
func waitLine(t *testing.T, b *testenv.Buffer, done <-chan error, prefix string, d *testenv.Dockerd) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for lineOf(b.String(), prefix) == "" {
		select {
		case err := <-done:
			t.Fatalf("dplug dev exited (%v) before %q:\n%s\ndockerd:\n%s", err, prefix, b.String(), d.Log())
		case <-tick.C:
		}
	}
}

// lineOf returns the first complete line of s starting with prefix.
func lineOf(s, prefix string) string {
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, prefix) && strings.HasSuffix(l, "\n") {
			return l
		}
	}
	return ""
}
