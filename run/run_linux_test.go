//go:build cgo

package run

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	if _, err := os.Stat(filepath.Join(root, runDirName(id))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run dir left behind: %s (%v)", filepath.Join(root, runDirName(id)), err)
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
	sw := &syncWriter{b: &out}
	inst := start(t, p, root, WithStdout(sw), WithStderr(sw))
	if want := filepath.Join(root, p.ID[:12], "sock", testplugin.Socket); inst.Socket() != want {
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
	for _, want := range []string{"volplug starting", "volplug: create v1", "volplug: create on stderr v1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plugin output lacks %q; got %q", want, out.String())
		}
	}
}

func withEnv(cfg plugin.Config, name, value string) plugin.Config {
	cfg.Env = append(cfg.Env, plugin.Env{Name: name, Value: &value})
	return cfg
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*plugin.Config)
		timeout time.Duration
		want    error
		exit    int    // expected exit code, -1 for none
		logLine string // expected in the error's last lines
	}{
		{"crash", func(c *plugin.Config) { *c = withEnv(*c, "TESTPLUGIN_MODE", "crash") }, 5 * time.Second, ErrExited, 3, "crashing on purpose"},
		{"nolisten", func(c *plugin.Config) { *c = withEnv(*c, "TESTPLUGIN_MODE", "nolisten") }, 700 * time.Millisecond, ErrNoSocket, -1, "volplug starting"},
		{"deadsocket", func(c *plugin.Config) { *c = withEnv(*c, "TESTPLUGIN_MODE", "deadsocket") }, 700 * time.Millisecond, ErrNotAnswering, -1, "volplug starting"},
		{"missing entrypoint", func(c *plugin.Config) { c.Entrypoint = []string{"/nope"} }, time.Second, ErrNoEntrypoint, -1, ""},
		{"empty entrypoint", func(c *plugin.Config) { c.Entrypoint = nil }, time.Second, ErrNoEntrypoint, -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testplugin.Config()
			tt.edit(&cfg)
			p := newPlugin(t, &cfg)
			root := runRoot(t)
			begin := time.Now()
			inst, err := Start(context.Background(), p, WithRunRoot(root), WithTimeout(tt.timeout))
			if err == nil {
				inst.Stop(context.Background(), 0)
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Start error = %v, want %v", err, tt.want)
			}
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start error %T is not a *StartError", err)
			}
			if se.ExitCode != tt.exit {
				t.Errorf("exit code = %d, want %d", se.ExitCode, tt.exit)
			}
			if tt.logLine != "" && !strings.Contains(err.Error(), tt.logLine) {
				t.Errorf("error lacks the plugin's output %q:\n%v", tt.logLine, err)
			}
			// Each failure says what to fix, in the plugin's terms.
			says := map[string]string{
				"nolisten":           "the plugin must listen on /run/docker/plugins/" + testplugin.Socket + " (interface.socket in config.json)",
				"deadsocket":         "/run/docker/plugins/" + testplugin.Socket + " exists but nothing accepts connections on it",
				"missing entrypoint": `fix "entrypoint" in config.json or add the program to the rootfs`,
				"empty entrypoint":   `add "entrypoint"`,
			}[tt.name]
			if says != "" && !strings.Contains(err.Error(), says) {
				t.Errorf("error does not say %q:\n%v", says, err)
			}
			if d := time.Since(begin); d > tt.timeout+5*time.Second {
				t.Errorf("Start took %s with timeout %s", d, tt.timeout)
			}
			assertClean(t, root, p.ID)
		})
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		name string
		caps []string
		want string
	}{
		{"with CAP_SYS_ADMIN", []string{"CAP_SYS_ADMIN"}, "mount: ok"},
		{"without", nil, "mount: denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := withEnv(testplugin.Config(), "TESTPLUGIN_MODE", "mount")
			cfg.Linux.Capabilities = tt.caps
			p := newPlugin(t, &cfg)
			root := runRoot(t)
			inst := start(t, p, root)
			var got string
			for _, l := range inst.LastLines(20) {
				if strings.HasPrefix(l, "mount:") {
					got = l
				}
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("plugin said %q, want %q", got, tt.want)
			}
			if err := inst.Stop(context.Background(), time.Second); err != nil {
				t.Fatal(err)
			}
			assertClean(t, root, p.ID)
		})
	}
}

func TestNetworkNamespace(t *testing.T) {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"host", "bridge", ""} {
		t.Run("type="+typ, func(t *testing.T) {
			cfg := testplugin.Config()
			cfg.Network.Type = typ
			p := newPlugin(t, &cfg)
			root := runRoot(t)
			inst := start(t, p, root)
			ns, err := os.Readlink("/proc/" + itoa(inst.Pid()) + "/ns/net")
			if err != nil {
				t.Fatal(err)
			}
			if shared := ns == self; shared != (typ == "host") {
				t.Errorf("network.type %q: plugin netns %s, host %s", typ, ns, self)
			}
			if err := inst.Stop(context.Background(), time.Second); err != nil {
				t.Fatal(err)
			}
			assertClean(t, root, p.ID)
		})
	}
}

func TestDetachedLoadStop(t *testing.T) {
	p := newPlugin(t, nil)
	root := runRoot(t)
	inst := start(t, p, root) // no writers: the plugin writes to its log file only
	if _, err := Start(context.Background(), p, WithRunRoot(root)); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Start: %v, want ErrAlreadyRunning", err)
	}
	loaded, err := Load(p.ID, WithRunRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Running() || loaded.Socket() != inst.Socket() || loaded.Pid() != inst.Pid() {
		t.Fatalf("Load: running=%v socket=%s pid=%d", loaded.Running(), loaded.Socket(), loaded.Pid())
	}
	data, err := os.ReadFile(loaded.LogPath())
	if err != nil || !strings.Contains(string(data), "volplug starting") {
		t.Errorf("log file: %q, %v", data, err)
	}
	if len(loaded.CgroupPaths()) == 0 {
		t.Error("no cgroup paths recorded")
	}
	for _, d := range loaded.CgroupPaths() {
		if !strings.Contains(d, DefaultCgroupParent+"/"+p.ID) {
			t.Errorf("cgroup %s not under %s", d, DefaultCgroupParent)
		}
	}
	twin := p
	twin.ID = p.ID[:12] + strings.Repeat("0", 52) // same run dir name, another plugin
	if _, err := Start(context.Background(), twin, WithRunRoot(root)); err == nil || !strings.Contains(err.Error(), p.ID) {
		t.Errorf("Start of a plugin whose short ID is taken: %v", err)
	}
	if err := loaded.Stop(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inst.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("plugin still running after Stop")
	}
	if _, err := Load(p.ID, WithRunRoot(root)); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Load after Stop: %v, want ErrNotRunning", err)
	}
	assertClean(t, root, p.ID)
}

func TestStopGrace(t *testing.T) {
	tests := []struct {
		mode     string
		grace    time.Duration
		wantCode []int
		min, max time.Duration
	}{
		// As PID 1 a Go program's default SIGTERM action is ignored by the
		// kernel, so the runtime exits 2 instead of dying of the signal.
		{"", 5 * time.Second, []int{2, 128 + 15}, 0, 4 * time.Second},                                   // exits on SIGTERM
		{"ignoreterm", 500 * time.Millisecond, []int{128 + 9}, 500 * time.Millisecond, 4 * time.Second}, // SIGKILL after the grace
	}
	for _, tt := range tests {
		t.Run("mode="+tt.mode, func(t *testing.T) {
			cfg := testplugin.Config()
			if tt.mode != "" {
				cfg = withEnv(cfg, "TESTPLUGIN_MODE", tt.mode)
			}
			p := newPlugin(t, &cfg)
			root := runRoot(t)
			inst := start(t, p, root, WithStdout(io.Discard))
			begin := time.Now()
			if err := inst.Stop(context.Background(), tt.grace); err != nil {
				t.Fatal(err)
			}
			took := time.Since(begin)
			if took < tt.min || took > tt.max {
				t.Errorf("Stop took %s, want %s..%s", took, tt.min, tt.max)
			}
			if got := inst.ExitCode(); !slices.Contains(tt.wantCode, got) {
				t.Errorf("exit code %d, want %d", got, tt.wantCode)
			}
			assertClean(t, root, p.ID)
		})
	}
}

// TestRuntimeEnvironment checks, from inside the plugin, what dockerd would
// give it: uid 0 whatever `user` says, workdir, entrypoint + settings args,
// env from settings only, declared mounts (read-only) and devices, and an
// empty network namespace for a non-host network type.
func TestRuntimeEnvironment(t *testing.T) {
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "hello"), []byte("hi from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	open := "/mnt/cfg/hello"
	_, fuseErr := os.Stat("/dev/fuse")
	cfg := testplugin.Config()
	cfg.Entrypoint = []string{"/volplug"}
	cfg.Args = plugin.Args{Name: "args", Settable: []string{"value"}, Value: []string{"volplug", "default-arg"}}
	cfg.WorkDir = "/tmp"
	cfg.User = plugin.User{UID: 1000, GID: 1000}
	cfg.Network.Type = "bridge"
	cfg.Mounts = []plugin.Mount{{Name: "cfg", Source: &hostDir, Destination: "/mnt/cfg", Type: "bind", Options: []string{"rbind", "ro"}}}
	if fuseErr == nil {
		fuse := "/dev/fuse"
		cfg.Linux.Devices = []plugin.Device{{Name: "fuse", Path: &fuse}}
		open += ",/dev/fuse"
	}
	cfg.Env = []plugin.Env{{Name: "TESTPLUGIN_MODE", Value: ptr("inspect")}, {Name: "TESTPLUGIN_OPEN", Value: &open},
		{Name: "FOO", Value: ptr("bar")}, {Name: "UNSET"}}
	p := newPlugin(t, &cfg)
	p.Settings.Args = []string{"volplug", "set-arg"} // as `dplug set NAME args=...` would
	root := runRoot(t)
	var out strings.Builder
	inst := start(t, p, root, WithStdout(&syncWriter{b: &out}))
	if err := inst.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	want := []string{
		"inspect uid: 0\n",
		"inspect cwd: /tmp\n",
		"inspect args: /volplug volplug set-arg\n",
		"inspect env: FOO=bar\n",
		"inspect env: PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
		`inspect open /mnt/cfg/hello: ok "hi from the host"`,
		"inspect if: lo\n",
	}
	if fuseErr == nil {
		want = append(want, `inspect open /dev/fuse: ok`)
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("plugin output lacks %q", w)
		}
	}
	for _, bad := range []string{"UNSET", "default-arg", "inspect if: eth"} {
		if strings.Contains(got, bad) {
			t.Errorf("plugin output has %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("plugin output:\n%s", got)
	}
	assertClean(t, root, p.ID)
}

// TestConcurrentStarts: of several simultaneous starts of one plugin exactly
// one wins, and the losers leave the winner's run alone.
func TestConcurrentStarts(t *testing.T) {
	p := newPlugin(t, nil)
	root := runRoot(t)
	const n = 4
	type result struct {
		inst *Instance
		err  error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			inst, err := Start(context.Background(), p, WithRunRoot(root))
			results <- result{inst, err}
		}()
	}
	var winner *Instance
	for range n {
		r := <-results
		switch {
		case r.err == nil && winner == nil:
			winner = r.inst
		case r.err == nil:
			r.inst.Stop(context.Background(), 0)
			t.Error("two starts of one plugin both succeeded")
		case !errors.Is(r.err, ErrAlreadyRunning):
			t.Errorf("losing Start: %v, want ErrAlreadyRunning", r.err)
		}
	}
	if winner == nil {
		t.Fatal("no Start succeeded")
	}
	if _, err := probe.Activate(context.Background(), winner.Socket()); err != nil {
		t.Errorf("the winner's plugin does not answer: %v", err)
	}
	if err := winner.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root, p.ID)
}

// TestRootfsUntouched: a run writes only to its overlay — the init layer,
// runc's mount points, files the plugin creates — never to the installed
// rootfs, so pushing or exporting a plugin after running it gives the same
// bytes as before.
func TestRootfsUntouched(t *testing.T) {
	p := newPlugin(t, nil)
	root := runRoot(t)
	list := func() []string {
		var paths []string
		_ = filepath.WalkDir(p.Rootfs, func(path string, d os.DirEntry, err error) error {
			if err == nil {
				info, _ := d.Info()
				paths = append(paths, fmt.Sprintf("%s %v %d", path, d.Type(), info.Size()))
			}
			return nil
		})
		return paths
	}
	before := list()
	inst := start(t, p, root)
	if _, err := os.Stat(filepath.Join(root, runDirName(p.ID), rootDir, ".dockerenv")); err != nil {
		t.Errorf("the init layer is missing from the running plugin's root: %v", err)
	}
	if err := inst.Stop(context.Background(), 2*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertClean(t, root, p.ID)
	if diff := cmp.Diff(before, list()); diff != "" {
		t.Errorf("running the plugin changed its installed rootfs (-before +after):\n%s", diff)
	}
}
