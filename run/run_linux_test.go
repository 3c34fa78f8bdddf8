//go:build cgo

package run

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

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
		f := strings.Fields(sc.Text())
		if strings.Contains(sc.Text(), id) || len(f) > 4 && strings.HasPrefix(unescapeMountinfo(f[4]), root) {
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
	root := testenv.RunRoot(t)
	var out testenv.Buffer
	inst := start(t, p, root, WithStdout(&out), WithStderr(&out))
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

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*plugin.Config)
		timeout time.Duration
		want    error
		exit    int    // expected exit code, -1 for none
		logLine string // expected in the error's last lines
	}{
		{"crash", func(c *plugin.Config) { *c = testplugin.ModeConfig("crash") }, 5 * time.Second, ErrExited, 3, "crashing on purpose"},
		{"nolisten", func(c *plugin.Config) { *c = testplugin.ModeConfig("nolisten") }, 700 * time.Millisecond, ErrNoSocket, -1, "volplug starting"},
		{"deadsocket", func(c *plugin.Config) { *c = testplugin.ModeConfig("deadsocket") }, 700 * time.Millisecond, ErrNotAnswering, -1, "volplug starting"},
		{"missing entrypoint", func(c *plugin.Config) { c.Entrypoint = []string{"/nope"} }, time.Second, ErrNoEntrypoint, -1, ""},
		{"empty entrypoint", func(c *plugin.Config) { c.Entrypoint = nil }, time.Second, ErrNoEntrypoint, -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testplugin.Config()
			tt.edit(&cfg)
			p := newPlugin(t, &cfg)
			root := testenv.RunRoot(t)
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
			cfg := testplugin.ModeConfig("mount")
			cfg.Linux.Capabilities = tt.caps
			p := newPlugin(t, &cfg)
			root := testenv.RunRoot(t)
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
			root := testenv.RunRoot(t)
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
	root := testenv.RunRoot(t)
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
	if err := Release(context.Background(), p.ID, "vol", false, WithRunRoot(root)); err == nil || !strings.Contains(err.Error(), "vol is running") {
		t.Errorf("Release without force of a running plugin: %v", err)
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
	if err := Release(context.Background(), p.ID, "vol", false, WithRunRoot(root)); err != nil {
		t.Errorf("Release with no run: %v", err)
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
			cfg := testplugin.ModeConfig(tt.mode)
			p := newPlugin(t, &cfg)
			root := testenv.RunRoot(t)
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
	if fuseErr != nil && testenv.InCI() {
		// The rest runs anyway; CI must also check a device reaches the
		// plugin (.ci/run makes the node).
		t.Errorf("CI=true but /dev/fuse is missing: %v", fuseErr)
	}
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
	root := testenv.RunRoot(t)
	var out testenv.Buffer
	inst := start(t, p, root, WithStdout(&out))
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
	root := testenv.RunRoot(t)
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

// treeHash describes every entry below dir — path, type and mode bits,
// size, content hash, symlink target — one line each, so that any change
// to the tree shows in a diff.
func treeHash(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		line := fmt.Sprintf("%s %v %d", rel, info.Mode(), info.Size())
		switch {
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" sha256:%x", sha256.Sum256(data))
		case info.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			line += " -> " + target
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRootfsUntouched: a run writes only to its overlay — the init layer,
// runc's mount points, files the plugin or a probe creates through the
// running root — never to the installed rootfs, so pushing or exporting a
// plugin after running it gives the same bytes as before. Checked for each
// interface type and with a run root overlayfs options cannot name
// (',' and ':'), where dplug once fell back to running on the installed
// rootfs itself.
func TestRootfsUntouched(t *testing.T) {
	types := []string{plugin.TypeVolume, plugin.TypeNetwork, plugin.TypeIPAM, plugin.TypeAuthz, plugin.TypeLog, plugin.TypeMetrics}
	for _, typ := range types {
		for _, odd := range []string{"", ",x:y z\\t"} {
			t.Run(typ+odd, func(t *testing.T) {
				cfg := testplugin.Config()
				cfg.Interface.Types = []string{typ}
				p := newPlugin(t, &cfg)
				for name, data := range map[string]string{"etc/existing": "installed\n", "run/keep": "k"} {
					if err := os.MkdirAll(filepath.Dir(filepath.Join(p.Rootfs, name)), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(p.Rootfs, name), []byte(data), 0o640); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Symlink("../volplug", filepath.Join(p.Rootfs, "etc", "link")); err != nil {
					t.Fatal(err)
				}
				root := testenv.RunRoot(t)
				if odd != "" {
					root = filepath.Join(root, odd)
					if err := os.Mkdir(root, 0o700); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { os.Remove(root) }) // before RunRoot's check
				}
				before := treeHash(t, p.Rootfs)
				inst := start(t, p, root)
				merged := inst.Rootfs()
				if merged == "" || merged == p.Rootfs || !strings.HasPrefix(merged, inst.Dir()) {
					t.Fatalf("Rootfs() = %q, want the overlay under the run dir %s", merged, inst.Dir())
				}
				if _, err := os.Stat(filepath.Join(merged, ".dockerenv")); err != nil {
					t.Errorf("the init layer is missing from the running plugin's root: %v", err)
				}
				// What a probe does through the running root (a log
				// driver's FIFO) and more: create, overwrite, chmod,
				// remove, replace a symlink.
				write := []func() error{
					func() error { return os.MkdirAll(filepath.Join(merged, "run/docker/logging"), 0o755) },
					func() error { return unix.Mkfifo(filepath.Join(merged, "run/docker/logging/fifo"), 0o600) },
					func() error { return os.WriteFile(filepath.Join(merged, "etc/existing"), []byte("changed"), 0o600) },
					func() error { return os.Chmod(filepath.Join(merged, "etc"), 0o700) },
					func() error { return os.Remove(filepath.Join(merged, "run/keep")) },
					func() error { return os.Remove(filepath.Join(merged, "etc/link")) },
					func() error { return os.Symlink("/elsewhere", filepath.Join(merged, "etc/link")) },
				}
				for k, w := range write {
					if err := w(); err != nil {
						t.Errorf("write %d through the running root: %v", k, err)
					}
				}
				if err := inst.Stop(context.Background(), 2*time.Second); err != nil {
					t.Fatalf("Stop: %v", err)
				}
				assertClean(t, root, p.ID)
				if diff := cmp.Diff(before, treeHash(t, p.Rootfs)); diff != "" {
					t.Errorf("running the plugin changed its installed rootfs (-before +after):\n%s", diff)
				}
			})
		}
	}
}

// TestEmptyBindSource: a declared bind mount whose (settable) source was
// left empty gets an empty dir of the run's own, as dockerd binds its
// bundle dir there, never the caller's working directory (vieux/sshfs's
// sshkey mount at /root/.ssh).
func TestEmptyBindSource(t *testing.T) {
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "secret"), []byte("caller's file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	empty := ""
	open := "/root/.ssh/secret,/root/.ssh"
	cfg := testplugin.Config()
	cfg.Mounts = []plugin.Mount{{Name: "sshkey", Source: &empty, Destination: "/root/.ssh", Type: "bind", Options: []string{"rbind"}, Settable: []string{"source"}}}
	cfg.Env = []plugin.Env{{Name: "TESTPLUGIN_MODE", Value: ptr("inspect")}, {Name: "TESTPLUGIN_OPEN", Value: &open}}
	p := newPlugin(t, &cfg)
	root := testenv.RunRoot(t)
	var out testenv.Buffer
	inst := start(t, p, root, WithStdout(&out))
	bundle := filepath.Join(inst.Dir(), bundleDir)
	entries, err := os.ReadDir(bundle)
	if err != nil || len(entries) != 0 {
		t.Errorf("the run's own dir %s: %v, %v; want it empty", bundle, entries, err)
	}
	if err := inst.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "inspect open /root/.ssh: ok") {
		t.Errorf("no dir mounted at /root/.ssh; plugin output:\n%s", got)
	}
	if !strings.Contains(got, "inspect open /root/.ssh/secret: open /root/.ssh/secret: no such file or directory") {
		t.Errorf("the caller's working directory is visible at /root/.ssh; plugin output:\n%s", got)
	}
	assertClean(t, root, p.ID)
}

// TestSocketOutsideRefused: an interface.socket that climbs out of the
// socket dir is refused before anything runs, in one line; a symlink the
// plugin puts at its socket path is never followed, so no host socket is
// dialled.
func TestSocketOutsideRefused(t *testing.T) {
	for _, sock := range []string{"../x.sock", "/run/docker.sock", "a/../../x.sock", ".", "../../../../../../var/run/docker.sock"} {
		t.Run(sock, func(t *testing.T) {
			cfg := testplugin.Config()
			cfg.Interface.Socket = sock
			p := newPlugin(t, &cfg)
			root := testenv.RunRoot(t)
			_, err := Start(context.Background(), p, WithRunRoot(root), WithTimeout(time.Second))
			if !errors.Is(err, ErrSocketOutside) {
				t.Fatalf("Start: %v, want ErrSocketOutside", err)
			}
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "fix interface.socket") {
				t.Errorf("error is not one line saying what to fix: %q", err)
			}
			assertClean(t, root, p.ID)
		})
	}

	t.Run("symlink to a host socket", func(t *testing.T) {
		hostDir, err := os.MkdirTemp("", "hs")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(hostDir)
		l, err := net.Listen("unix", filepath.Join(hostDir, "host.sock"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		dialled := make(chan struct{}, 1)
		go func() {
			if c, err := l.Accept(); err == nil {
				dialled <- struct{}{}
				c.Close()
			}
		}()
		cfg := testplugin.ModeConfig("nolisten")
		p := newPlugin(t, &cfg)
		root := testenv.RunRoot(t)
		errc := make(chan error, 1)
		go func() {
			_, err := Start(context.Background(), p, WithRunRoot(root), WithTimeout(10*time.Second))
			errc <- err
		}()
		// Plant the link as the plugin could, once the socket dir exists.
		link := filepath.Join(root, runDirName(p.ID), sockDirName, testplugin.Socket)
		deadline := time.Now().Add(10 * time.Second)
		for os.Symlink(filepath.Join(hostDir, "host.sock"), link) != nil {
			if time.Now().After(deadline) {
				t.Fatal("the socket dir never appeared")
			}
			time.Sleep(5 * time.Millisecond)
		}
		err = <-errc
		if !errors.Is(err, ErrSocketOutside) {
			t.Errorf("Start: %v, want ErrSocketOutside", err)
		}
		select {
		case <-dialled:
			t.Error("dplug dialled the host socket the plugin's symlink points to")
		default:
		}
		assertClean(t, root, p.ID)
	})
}

// TestInitExitNoticed: a pidhost plugin whose init exits while a child it
// left behind still holds its (streamed) stdout is seen to exit: Done
// closes, and Stop removes the child with the rest of the run.
func TestInitExitNoticed(t *testing.T) {
	bb := testenv.RequireBinary(t, "busybox", "apt-get install busybox-static")
	cfg := testplugin.Config()
	cfg.PidHost = true
	// The shell is the init: it starts volplug in the background (which
	// inherits stdout), waits until the socket is there, then exits.
	cfg.Entrypoint = []string{"/busybox", "sh", "-c",
		"/volplug volplug & while [ ! -S /run/docker/plugins/" + testplugin.Socket + " ]; do /busybox sleep 0.05; done; /busybox sleep 0.5; echo init leaving"}
	p := newPlugin(t, &cfg)
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Rootfs, "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	root := testenv.RunRoot(t)
	var out testenv.Buffer
	inst := start(t, p, root, WithStdout(&out))
	select {
	case <-inst.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("the plugin's init exited but Done never closed; output:\n%s", out.String())
	}
	if inst.Running() {
		t.Error("Running() after the init exited")
	}
	if err := inst.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root, p.ID)
}

// TestDoctorCleansOrphanedRun: a run whose starting process is gone and
// that was never detached is reported and, with fix, stopped and removed;
// a detached run is left alone.
func TestDoctorCleansOrphanedRun(t *testing.T) {
	root := testenv.RunRoot(t)
	orphan := newPlugin(t, nil)
	inst := start(t, orphan, root)
	detached := newPlugin(t, nil)
	keep := start(t, detached, root)
	if err := keep.Detach(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := Doctor(ctx, false, WithRunRoot(root)); err != nil || len(got) != 0 {
		t.Fatalf("Doctor with the owner alive: %+v, %v; want nothing", got, err)
	}
	// Pretend the starting process died: a PID no process has.
	inst.rec.Owner, inst.rec.OwnerStart = 1<<22+1, 1
	if err := inst.writeRecord(); err != nil {
		t.Fatal(err)
	}
	got, err := Doctor(ctx, false, WithRunRoot(root))
	if err != nil || len(got) != 1 || got[0].ID != orphan.ID || got[0].Fixed || !strings.Contains(got[0].Reason, "is gone") {
		t.Fatalf("Doctor: %+v, %v; want the orphaned run, not fixed", got, err)
	}
	if !inst.Running() {
		t.Fatal("Doctor without fix stopped the plugin")
	}
	// A run dir whose start was killed before it wrote a record.
	bare := filepath.Join(root, "0123456789ab")
	if err := os.MkdirAll(filepath.Join(bare, sockDirName), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err = Doctor(ctx, true, WithRunRoot(root))
	if err != nil || len(got) != 2 || !got[0].Fixed || !got[1].Fixed {
		t.Fatalf("Doctor --fix: %+v, %v; want two fixed leftovers", got, err)
	}
	select {
	case <-inst.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the orphaned plugin still runs after Doctor --fix")
	}
	if _, err := os.Stat(inst.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphaned run dir left: %v", err)
	}
	if _, err := os.Stat(bare); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run dir without a record left: %v", err)
	}
	if !keep.Running() {
		t.Error("Doctor --fix stopped a detached run")
	}
	if err := keep.Stop(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	assertClean(t, root, orphan.ID) // mounts, cgroups, dir
	assertClean(t, root, detached.ID)
}

// TestStartReplacesOrphanedRun: starting a plugin whose previous
// foreground run lost its dplug process replaces that run instead of
// saying it is already running; a symlinked run root is cleaned all the
// same (mount points are matched by their real path).
func TestStartReplacesOrphanedRun(t *testing.T) {
	p := newPlugin(t, nil)
	real := testenv.RunRoot(t)
	root := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, root); err != nil {
		t.Fatal(err)
	}
	first := start(t, p, root)
	first.rec.Owner, first.rec.OwnerStart = 1<<22+1, 1
	if err := first.writeRecord(); err != nil {
		t.Fatal(err)
	}
	second := start(t, p, root)
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the orphaned run's plugin still runs")
	}
	if _, err := probe.Activate(context.Background(), second.Socket()); err != nil {
		t.Errorf("the new run does not answer: %v", err)
	}
	if err := second.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	assertClean(t, real, p.ID)
}

// TestDotIDsRefused: an ID of "." or ".." (a damaged inventory) never
// makes Start or Load use the run root or its parent as a run dir, which
// Start and Stop would remove.
func TestDotIDsRefused(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "run")
	if err := os.MkdirAll(filepath.Join(root, "keep"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{".", ".."} {
		cfg := testplugin.Config()
		if _, err := Start(context.Background(), Plugin{ID: id, Config: cfg, Settings: cfg.DefaultSettings(), Rootfs: parent}, WithRunRoot(root)); err == nil || !strings.Contains(err.Error(), "invalid plugin ID") {
			t.Errorf("Start(ID %q): %v, want invalid plugin ID", id, err)
		}
		if _, err := Load(id, WithRunRoot(root)); err == nil || !strings.Contains(err.Error(), "invalid plugin ID") {
			t.Errorf("Load(%q): %v, want invalid plugin ID", id, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "keep")); err != nil {
		t.Errorf("the run root lost its contents: %v", err)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/a/b`:            "/a/b",
		`/a\040b`:         "/a b",
		`/a\011b\134c`:    "/a\tb\\c",
		`/a\012`:          "/a\n",
		`/trailing\04`:    `/trailing\04`,
		`/not\999octal`:   `/not\999octal`,
		`/x,y:z\040\040w`: "/x,y:z  w",
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKillCgroup: the cleanup for a run whose container state is lost
// kills what is left in the plugin's cgroup and removes the cgroup and the
// parent.
func TestKillCgroup(t *testing.T) {
	testenv.RequireRoot(t)
	base := "/sys/fs/cgroup/pids"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		base = "/sys/fs/cgroup" // v2
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	parent, id := "dplug-test-"+hex.EncodeToString(b), "0123456789abcdef"
	dir := filepath.Join(base, parent, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		testenv.Unavailable(t, "cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() { unix.Rmdir(dir); unix.Rmdir(filepath.Dir(dir)) })
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(itoa(cmd.Process.Pid)), 0); err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	killCgroup(parent, id)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the process in the cgroup survived")
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s left: %v", d, err)
		}
	}
}
