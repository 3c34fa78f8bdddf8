// Package testplugin builds a small, real volume plugin (the volplug command
// beside it: a static Go binary serving go-plugins-helpers' VolumeDriver) into
// a plugin directory — config.json plus rootfs/ — that `docker plugin create`,
// dplug pack/install/run all accept. No base image is needed.
package testplugin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
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
// returns its path. The binary is cached under os.TempDir()/dplug-volplug/,
// keyed by volplug's source, go.sum and the Go version, so test processes
// share one copy instead of each leaving a new temp dir behind.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "volplug")
		h := sha256.New()
		for _, f := range []string{filepath.Join(src, "main.go"), filepath.Join(filepath.Dir(self), "..", "..", "go.sum")} {
			data, err := os.ReadFile(f)
			if err != nil {
				buildErr = err
				return
			}
			h.Write(data)
		}
		h.Write([]byte(runtime.Version()))
		dir := filepath.Join(os.TempDir(), "dplug-volplug", hex.EncodeToString(h.Sum(nil))[:16])
		binPath = filepath.Join(dir, "volplug")
		if fi, err := os.Stat(binPath); err == nil && fi.Mode().IsRegular() {
			return
		}
		if buildErr = os.MkdirAll(dir, 0o755); buildErr != nil {
			return
		}
		// Build beside the final path and rename: concurrent test
		// processes never see a half-written binary.
		tmp := filepath.Join(dir, "volplug."+strconv.Itoa(os.Getpid())+".tmp")
		defer os.Remove(tmp)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./volplug")
		cmd.Dir = filepath.Dir(self)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if buildOut, buildErr = cmd.CombinedOutput(); buildErr != nil {
			return
		}
		buildErr = os.Rename(tmp, binPath)
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
