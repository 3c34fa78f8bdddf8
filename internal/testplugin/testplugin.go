// Package testplugin builds a small, real volume plugin (the volplug command
// beside it: a static Go binary serving go-plugins-helpers' VolumeDriver) into
// a plugin directory — config.json plus rootfs/ — that `docker plugin create`,
// dplug pack/install/run all accept. No base image is needed.
package testplugin

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/dplug/dplug/plugin"
)

// Socket is the socket name volplug listens on inside the plugin.
const Socket = "volplug.sock"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// Binary builds volplug once per test process (static, CGO_ENABLED=0) and
// returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "volplug-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "volplug")
		_, self, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", binPath, "./volplug")
		cmd.Dir = filepath.Dir(self)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building volplug: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// Config returns the default config.json for volplug; edit it before Dir.
func Config() plugin.Config {
	return plugin.Config{
		Description:     "dplug test volume plugin",
		Documentation:   "https://example.invalid/volplug",
		Entrypoint:      []string{"/volplug", "volplug"},
		Interface:       plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: Socket},
		Network:         plugin.Network{Type: "host"},
		PropagatedMount: "/data",
		Linux:           plugin.Linux{Capabilities: []string{"CAP_SYS_ADMIN"}},
	}
}

// Dir writes a plugin directory (config.json + rootfs/volplug) under a new
// t.TempDir and returns it. cfg nil means Config().
func Dir(t testing.TB, cfg *plugin.Config) string {
	t.Helper()
	if cfg == nil {
		c := Config()
		cfg = &c
	}
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"", "data", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "volplug"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
