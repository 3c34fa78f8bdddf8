package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestDevDockerOnce runs one iteration of `dplug dev --docker` on a machine
// whose only builder is a Docker Engine: build with the engine's BuildKit,
// load, and use the volume driver through the engine.
func TestDevDockerOnce(t *testing.T) {
	d := testenv.StartDockerdEngine(t, testenv.Engine26)
	t.Setenv("DOCKER_HOST", d.Host)
	t.Setenv("DPLUG_ROOT", t.TempDir())
	dir := t.TempDir()
	bin, err := os.ReadFile(testplugin.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(testplugin.Config())
	for name, body := range map[string][]byte{"volplug": bin, "config.json": cfg, "Dockerfile": []byte("FROM scratch\nCOPY volplug /volplug\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errOut := dplug(t, "dev", "--docker", "--once", "--builder", "docker", "-t", "dplugtest/dev", dir)
	if code != 0 {
		t.Fatalf("dev: exit %d\n%s\n%s", code, errOut, d.Log())
	}
	for _, want := range []string{"dev: #1 build", "· load", "· test", "volume ok"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dev output lacks %q:\n%s", want, errOut)
		}
	}
	// The second iteration replaces the plugin it loaded.
	if code, _, errOut := dplug(t, "dev", "--docker", "--once", "--builder", "docker", "-t", "dplugtest/dev", dir); code != 0 {
		t.Fatalf("second dev: exit %d\n%s", code, errOut)
	}
}

// TestDevStoreOnceLogs runs one iteration of `dplug dev` in store mode
// (build with a BuildKit, install, dplug test) and checks that the plugin's
// own output is streamed, prefixed with its name, as `dplug run` does.
func TestDevStoreOnceLogs(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "runc", "apt-get install runc")
	bk := testenv.SharedBuildkitd(t)
	dir := t.TempDir()
	bin, err := os.ReadFile(testplugin.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(testplugin.Config())
	for name, body := range map[string][]byte{"volplug": bin, "config.json": cfg, "Dockerfile": []byte("FROM scratch\nCOPY volplug /volplug\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := rundplug(t, context.Background(), shortRoot(t), "dev", "--once", "--builder", bk.Addr, "-t", "dplugtest/devlogs:dev", dir)
	if code != 0 {
		t.Fatalf("dev: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"dev: #1 build+install", "· test", "PASS", "devlogs:dev | volplug starting, socket"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dev stderr lacks %q:\n%s", want, errOut)
		}
	}
}
