package cli_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestDevDockerOnce runs one iteration of `dplug dev --docker` on a machine
// whose only builder is a Docker Engine: build with the engine's BuildKit,
// load, and, as root beside the engine, probe the plugin on the engine's
// own socket to it.
func TestDevDockerOnce(t *testing.T) {
	d := testenv.StartDockerdEngine(t, testenv.Engine26)
	t.Setenv("DOCKER_HOST", d.Host)
	t.Setenv("DPLUG_ROOT", t.TempDir())
	dir := testplugin.BuildContext(t)
	code, _, errOut := dplug(t, "dev", "--docker", "--once", "--builder", "docker", "-t", "dplugtest/dev", dir)
	if code != 0 {
		t.Fatalf("dev: exit %d\n%s\n%s", code, errOut, d.Log())
	}
	for _, want := range []string{"dev: #1 build", "· load", "· test", "PASS (", "on the engine's socket"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dev output lacks %q:\n%s", want, errOut)
		}
	}
	// dev removes the plugin it loaded when it ends.
	if out := d.MustDocker(t, "plugin", "ls", "--format", "{{.Name}}"); strings.TrimSpace(out) != "" {
		t.Errorf("plugins left in the engine: %s", out)
	}
}

// TestDevStoreOnceLogs runs one iteration of `dplug dev` in store mode
// (build with a BuildKit, install, dplug test) and checks that the plugin's
// own output is streamed, prefixed with its name, as `dplug run` does.
func TestDevStoreOnceLogs(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "runc", "apt-get install runc")
	bk := testenv.SharedBuildkitd(t)
	dir := testplugin.BuildContext(t)
	code, out, errOut := rundplug(t, context.Background(), shortRoot(t), "dev", "--once", "--builder", bk.Addr, "-t", "dplugtest/devlogs:dev", dir)
	if code != 0 {
		t.Fatalf("dev: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"dev: #1 build", "· install", "· run", "· test", "PASS", "devlogs:dev | volplug starting, socket"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dev stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestDevStoreLoop runs `dplug dev` in store mode as the author does: the
// plugin stays running after the first test (its socket is there), a saved
// change rebuilds and restarts it, and Ctrl-C (the context ending) stops
// it and leaves no run behind (shortRoot checks).
func TestDevStoreLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "runc", "apt-get install runc")
	bk := testenv.SharedBuildkitd(t)
	dir := testplugin.BuildContext(t)
	root := shortRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"--root", root, "dev", "--debounce", "50ms", "--builder", bk.Addr, "-t", "dplugtest/devloop:dev", dir},
			strings.NewReader(""), io.Discard, &errOut)
	}()
	waitOutput(t, &errOut, done, "dev: #1 build")
	if out := errOut.String(); !strings.Contains(out, "PASS") {
		t.Fatalf("first iteration did not pass:\n%s", out)
	}
	runs, err := os.ReadDir(filepath.Join(root, "run"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("after the first iteration the plugin should still run: %v, %v\n%s", runs, err, errOut.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "NOTES"), []byte("an edit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &errOut, done, "dev: #2 build")
	out := errOut.String()
	if strings.Count(out, "PASS") != 2 || strings.Count(out, "devloop:dev | volplug starting") != 2 {
		t.Errorf("the edit should rebuild, restart and test the plugin once more:\n%s", out)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("dev exit %d after Ctrl-C:\n%s", code, errOut.String())
	}
}

// waitOutput waits until the running command's output has a line starting
// with prefix and then that line's end, failing if it exits first.
func waitOutput(t *testing.T, b *testenv.Buffer, done <-chan int, prefix string) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out := b.String()
		if i := strings.Index(out, prefix); i >= 0 && strings.Contains(out[i:], "\n") {
			return
		}
		select {
		case code := <-done:
			t.Fatalf("dev exited (%d) before %q:\n%s", code, prefix, b.String())
		case <-deadline:
			t.Fatalf("no %q within 3 minutes:\n%s", prefix, b.String())
		case <-tick.C:
		}
	}
}
