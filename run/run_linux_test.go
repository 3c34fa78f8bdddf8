package run

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/probe"
)

// newPlugin writes volplug with cfg into a plugin dir and returns it as a
// Plugin with a fresh random ID.
func newPlugin(t *testing.T, cfg *plugin.Config) Plugin {
	t.Helper()
	testenv.RequireRoot(t)
	if cfg == nil {
		c := testplugin.Config()
		cfg = &c
	}
	dir := testplugin.Dir(t, cfg)
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return Plugin{ID: hex.EncodeToString(id), Name: "volplug", Rootfs: filepath.Join(dir, "rootfs"),
		Config: *cfg, Settings: cfg.DefaultSettings()}
}

// runRoot is a short run root, removed (and checked to be empty) at the end.
func runRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			t.Errorf("run root still holds %s after the test", e.Name())
		}
		os.RemoveAll(dir)
	})
	return dir
}

// assertClean fails t if anything of the run of id survived: a mount, a
// cgroup dir or the run dir.
func assertClean(t *testing.T, root, id string) {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), id) || strings.Contains(sc.Text(), root) {
			t.Errorf("mount left behind: %s", sc.Text())
		}
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + DefaultCgroupParent + "/" + id)
	for _, d := range dirs {
		t.Errorf("cgroup left behind: %s", d)
	}
	if _, err := os.Stat(filepath.Join(root, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run dir left behind: %s (%v)", filepath.Join(root, id), err)
	}
}

func start(t *testing.T, p Plugin, root string, opts ...Option) *Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst, err := Start(ctx, p, append([]Option{WithRunRoot(root), WithTimeout(10 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = inst.Stop(context.Background(), 0) })
	return inst
}

func TestVolumeLifecycle(t *testing.T) {
	p := newPlugin(t, nil)
	root := runRoot(t)
	var out strings.Builder
	inst := start(t, p, root, WithStdout(&syncWriter{b: &out}))
	if want := filepath.Join(root, p.ID, "sock", testplugin.Socket); inst.Socket() != want {
		t.Errorf("Socket() = %s, want %s", inst.Socket(), want)
	}
	ctx := context.Background()
	impl, err := probe.Activate(ctx, inst.Socket())
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if m := probe.MissingImplements(p.Config.Interface.Types, impl); len(m) > 0 {
		t.Errorf("Implements %v lacks %v", impl, m)
	}
	c := probe.NewClient(inst.Socket())
	type errResp struct{ Err string }
	call := func(method string, req any, wantErr bool) {
		t.Helper()
		var r errResp
		if _, err := c.CallJSON(ctx, method, req, &r); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if (r.Err != "") != wantErr {
			t.Errorf("%s(%v): Err = %q, want error: %v", method, req, r.Err, wantErr)
		}
	}
	call("VolumeDriver.Create", map[string]any{"Name": "v1", "Opts": map[string]string{}}, false)
	var list struct {
		Volumes []struct{ Name, Mountpoint string }
	}
	if _, err := c.CallJSON(ctx, "VolumeDriver.List", nil, &list); err != nil || len(list.Volumes) != 1 || list.Volumes[0].Name != "v1" {
		t.Errorf("List = %+v, %v; want v1", list, err)
	}
	call("VolumeDriver.Get", map[string]string{"Name": "v1"}, false)
	call("VolumeDriver.Get", map[string]string{"Name": "missing"}, true)
	var m struct{ Mountpoint, Err string }
	if _, err := c.CallJSON(ctx, "VolumeDriver.Mount", map[string]string{"Name": "v1", "ID": "c1"}, &m); err != nil || m.Err != "" {
		t.Fatalf("Mount: %+v %v", m, err)
	}
	// The volume dir was made by the plugin under its propagated mount.
	if _, err := os.Stat(filepath.Join(inst.PropagatedMount(), "volumes", "v1")); err != nil {
		t.Errorf("volume not visible through the propagated mount on the host: %v", err)
	}
	call("VolumeDriver.Unmount", map[string]string{"Name": "v1", "ID": "c1"}, false)
	call("VolumeDriver.Remove", map[string]string{"Name": "v1"}, false)
	call("VolumeDriver.Remove", map[string]string{"Name": "v1"}, true)

	if err := inst.Stop(ctx, 2*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertClean(t, root, p.ID)
	if !strings.Contains(out.String(), "volplug starting") {
		t.Errorf("plugin stdout not streamed; got %q", out.String())
	}
}
