// Package testplugin builds small, real plugins into plugin directories —
// config.json plus rootfs/ — that `docker plugin create`, dplug
// pack/install/run all accept, with no base image: volplug (a static Go
// binary serving go-plugins-helpers' VolumeDriver, with misbehaviour modes)
// and regplug (the regression plugins `dplug test` must pass: a volume
// driver needing options, idempotent Remove, an empty settable bind
// source, a log driver opening its FIFO blocking, an IPAM needing an
// explicit subnet and address, a deny-by-default authz).
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

// builds holds one build per command (volplug, regplug) per test process.
var builds sync.Map // name -> *build

type build struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// Binary builds volplug once per test process (static, CGO_ENABLED=0) and
// returns its path. The binary is cached under os.TempDir()/dplug-volplug/,
// keyed by volplug's source, go.sum and the Go version, so test processes
// share one copy instead of each leaving a new temp dir behind.
func Binary(t testing.TB) string { t.Helper(); return binary(t, "volplug") }

// RegBinary builds regplug (the regression plugins, see its doc) like Binary.
func RegBinary(t testing.TB) string { t.Helper(); return binary(t, "regplug") }

func binary(t testing.TB, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() { b.path, b.out, b.err = buildCommand(name) })
	if b.err != nil {
		t.Fatalf("building %s: %v\n%s", name, b.err, b.out)
	}
	return b.path
}

func buildCommand(name string) (string, []byte, error) {
	_, self, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(self), name)
	h := sha256.New()
	for _, f := range []string{filepath.Join(src, "main.go"), filepath.Join(filepath.Dir(self), "..", "..", "go.sum")} {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", nil, err
		}
		h.Write(data)
	}
	h.Write([]byte(runtime.Version()))
	dir := filepath.Join(os.TempDir(), "dplug-"+name, hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	// Build beside the final path and rename: concurrent test processes
	// never see a half-written binary.
	tmp := filepath.Join(dir, name+"."+strconv.Itoa(os.Getpid())+".tmp")
	defer os.Remove(tmp)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./"+name)
	cmd.Dir = filepath.Dir(self)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", out, err
	}
	return bin, nil, os.Rename(tmp, bin)
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
	return writeDir(t, cfg, "volplug", Binary(t))
}

// RegSocket is the socket name regplug listens on inside the plugin.
const RegSocket = "regplug.sock"

// Regression plugin modes (regplug's first argument).
const (
	RegOptVolume    = "optvolume"    // volume driver whose Create needs the option sshcmd
	RegIdemRemove   = "idemremove"   // volume driver with idempotent Remove
	RegEmptySource  = "emptysource"  // volume driver with a settable bind mount whose source is ""
	RegBlockingLog  = "blockinglog"  // log driver that opens the FIFO blocking
	RegExplicitIPAM = "explicitipam" // IPAM driver that needs an explicit subnet and address
	RegDenyAuthz    = "denyauthz"    // authorization plugin that denies everything
)

// RegConfig returns the config.json of the regression plugin for mode.
func RegConfig(mode string) plugin.Config {
	types := map[string]string{
		RegOptVolume: plugin.TypeVolume, RegIdemRemove: plugin.TypeVolume, RegEmptySource: plugin.TypeVolume,
		RegBlockingLog: plugin.TypeLog, RegExplicitIPAM: plugin.TypeIPAM, RegDenyAuthz: plugin.TypeAuthz,
	}
	cfg := plugin.Config{
		Description:   "dplug regression plugin " + mode,
		Documentation: "https://example.invalid/regplug",
		Entrypoint:    []string{"/regplug", mode},
		Interface:     plugin.Interface{Types: []string{types[mode]}, Socket: RegSocket},
		Network:       plugin.Network{Type: "host"},
	}
	if types[mode] == plugin.TypeVolume {
		cfg.PropagatedMount = "/data"
		cfg.Linux.Capabilities = []string{"CAP_SYS_ADMIN"}
	}
	if mode == RegEmptySource {
		empty := ""
		cfg.Mounts = []plugin.Mount{{Name: "sshkey", Description: "the user's ssh keys, set at install",
			Source: &empty, Destination: "/root/.ssh", Type: "bind", Options: []string{"rbind"}, Settable: []string{"source"}}}
	}
	return cfg
}

// RegDir writes the regression plugin directory for mode (config.json +
// rootfs/regplug) under a new t.TempDir and returns it.
func RegDir(t testing.TB, mode string) string {
	t.Helper()
	cfg := RegConfig(mode)
	return writeDir(t, &cfg, "regplug", RegBinary(t))
}

func writeDir(t testing.TB, cfg *plugin.Config, name, binPath string) string {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"", "data", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, name), bin, 0o755); err != nil {
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
