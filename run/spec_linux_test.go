package run

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/plugin"
)

// dockerdPlugin is the plugin whose runtime spec was captured from dockerd
// 20.10.24 (testdata/oci-spec-20.10.24.json, see DOCKERD-FACTS.md in the
// team's reference), with dockerd's own host paths as this run's paths
// and a fake /dev/fuse (char 10:229, 0600, root) so that building the spec
// needs no device of the machine running the test.
func dockerdPlugin() (Plugin, hostPaths) {
	const (
		id      = "fbf13c8f7ac0cd564d3b132f75679ab9820f22db6201acc52925c60061b90644"
		pdir    = "/tmp/research-formats/dd/root/plugins/" + id
		hostcfg = "/tmp/research-formats/hostcfg"
	)
	fuse := "/dev/fuse"
	src := hostcfg
	debug := "2"
	cfg := plugin.Config{
		Entrypoint:      []string{"/plug", "/run/docker/plugins/rf.sock"},
		WorkDir:         "/mnt",
		Interface:       plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "rf.sock"},
		Network:         plugin.Network{Type: "host"},
		PropagatedMount: "/data",
		Env:             []plugin.Env{{Name: "DEBUG", Value: &debug}},
		Mounts:          []plugin.Mount{{Name: "cfg", Source: &src, Destination: "/mnt/cfg", Type: "bind", Options: []string{"rbind", "ro"}}},
		Linux: plugin.Linux{
			Capabilities: []string{"CAP_SYS_ADMIN"},
			Devices:      []plugin.Device{{Name: "fuse", Path: &fuse}},
		},
		User: plugin.User{UID: 1000}, // ignored, as by dockerd
	}
	fakeStat := func(path string, st *unix.Stat_t) error {
		if path != "/dev/fuse" {
			return unix.ENOENT
		}
		*st = unix.Stat_t{Mode: unix.S_IFCHR | 0o600, Rdev: unix.Mkdev(10, 229)}
		return nil
	}
	return Plugin{ID: id, Config: cfg, Settings: cfg.DefaultSettings()}, hostPaths{
		rootfs:     pdir + "/rootfs",
		sockDir:    "/run/docker/plugins/" + id,
		propagated: pdir + "/propagated-mount",
		cgroup:     "/dplug/" + id,
		stat:       fakeStat,
	}
}

// specMap builds the spec for p as generic JSON, without the two fields
// allowed to differ from dockerd's: ociVersion (the runtime-spec
// module's) and cgroupsPath (dockerd leaves it to containerd).
func specMap(t *testing.T, p Plugin, hp hostPaths) map[string]any {
	t.Helper()
	s, err := buildSpec(p, hp)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return jsonMap(t, data)
}

// capturedSpec is the spec dockerd 20.10.24 ran dockerdPlugin with.
func capturedSpec(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/oci-spec-20.10.24.json")
	if err != nil {
		t.Fatal(err)
	}
	return jsonMap(t, data)
}

func jsonMap(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "ociVersion")
	delete(m["linux"].(map[string]any), "cgroupsPath")
	return m
}

// at is the value at a path of keys in generic JSON (nil if absent).
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestSpecMatchesDockerd builds the spec for the plugin whose runtime spec
// was captured from dockerd 20.10.24 and compares it with the capture,
// first part by part (so that a failure names what broke), then whole.
func TestSpecMatchesDockerd(t *testing.T) {
	p, hp := dockerdPlugin()
	got, want := specMap(t, p, hp), capturedSpec(t)
	parts := [][]string{
		{"process", "capabilities", "bounding"},
		{"process", "capabilities", "effective"},
		{"process", "capabilities", "inheritable"},
		{"process", "capabilities", "permitted"},
		{"process", "capabilities", "ambient"},
		{"process", "env"}, {"process", "args"}, {"process", "cwd"}, {"process", "user"},
		{"root"}, {"mounts"},
		{"linux", "rootfsPropagation"},
		{"linux", "readonlyPaths"},
		{"linux", "maskedPaths"},
		{"linux", "resources", "devices"},
		{"linux", "devices"},
		{"linux", "namespaces"},
	}
	for _, keys := range parts {
		if at(want, keys...) == nil && keys[len(keys)-1] != "ambient" {
			t.Fatalf("the capture has no %v: the test would prove nothing", keys)
		}
		if d := cmp.Diff(at(want, keys...), at(got, keys...)); d != "" {
			t.Errorf("%v differs from dockerd's (-dockerd +dplug):\n%s", keys, d)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("spec differs from dockerd's (-dockerd +dplug):\n%s", d)
	}
}

// TestSpecDockerdVariants changes one thing in the captured plugin and
// checks the spec changes the way dockerd's InitSpec changes it.
func TestSpecDockerdVariants(t *testing.T) {
	bind := func(src, dest string) plugin.Mount {
		return plugin.Mount{Name: dest, Source: &src, Destination: dest, Type: "bind", Options: []string{"rbind", "rw"}}
	}
	mountJSON := func(src, dest string) any {
		return map[string]any{"source": src, "destination": dest, "type": "bind", "options": []any{"rbind", "rw"}}
	}
	// withMount inserts m after the captured user mount /mnt/cfg, where
	// dockerd puts the settings' mounts (before the socket dir).
	withMount := func(mounts []any, m any) []any {
		var out []any
		for _, x := range mounts {
			out = append(out, x)
			if at(x, "destination") == "/mnt/cfg" {
				out = append(out, m)
			}
		}
		return out
	}
	without := func(mounts []any, dest string) []any {
		var out []any
		for _, x := range mounts {
			if at(x, "destination") != dest {
				out = append(out, x)
			}
		}
		return out
	}
	tests := []struct {
		name string
		edit func(*Plugin)
		want func(spec map[string]any)
	}{
		{"allowAllDevices: one allow-all rule, then the devices'", func(p *Plugin) { p.Config.Linux.AllowAllDevices = true }, func(s map[string]any) {
			rules := at(s, "linux", "resources", "devices").([]any)
			s["linux"].(map[string]any)["resources"].(map[string]any)["devices"] = []any{
				map[string]any{"allow": true, "access": "rwm"},
				rules[len(rules)-1], // the fuse device's allow rule
			}
		}},
		{"a user mount on /dev/shm replaces the default one", func(p *Plugin) {
			p.Settings.Mounts = append(p.Settings.Mounts, bind("/host/shm", "/dev/shm"))
		}, func(s map[string]any) {
			s["mounts"] = withMount(without(s["mounts"].([]any), "/dev/shm"), mountJSON("/host/shm", "/dev/shm"))
		}},
		{"a user mount on /dev/mqueue replaces the default one", func(p *Plugin) {
			p.Settings.Mounts = append(p.Settings.Mounts, bind("/host/mq", "/dev/mqueue"))
		}, func(s map[string]any) {
			s["mounts"] = withMount(without(s["mounts"].([]any), "/dev/mqueue"), mountJSON("/host/mq", "/dev/mqueue"))
		}},
		{"a user mount on /dev itself adds to the default one", func(p *Plugin) {
			p.Settings.Mounts = append(p.Settings.Mounts, bind("/dev", "/dev"))
		}, func(s map[string]any) {
			s["mounts"] = withMount(s["mounts"].([]any), mountJSON("/dev", "/dev"))
		}},
		{"a user mount elsewhere replaces nothing", func(p *Plugin) {
			p.Settings.Mounts = append(p.Settings.Mounts, bind("/host/proc", "/proc/x"))
		}, func(s map[string]any) {
			s["mounts"] = withMount(s["mounts"].([]any), mountJSON("/host/proc", "/proc/x"))
		}},
		{"no propagatedMount: no rshared rootfs, no /data", func(p *Plugin) { p.Config.PropagatedMount = "" }, func(s map[string]any) {
			delete(s["linux"].(map[string]any), "rootfsPropagation")
			s["mounts"] = without(s["mounts"].([]any), "/data")
		}},
		{"capabilities go to all four sets", func(p *Plugin) {
			p.Config.Linux.Capabilities = append(p.Config.Linux.Capabilities, "CAP_NET_ADMIN")
		}, func(s map[string]any) {
			for _, set := range []string{"bounding", "effective", "inheritable", "permitted"} {
				caps := s["process"].(map[string]any)["capabilities"].(map[string]any)
				caps[set] = append(caps[set].([]any), "CAP_NET_ADMIN")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, hp := dockerdPlugin()
			tt.edit(&p)
			want := capturedSpec(t)
			tt.want(want)
			if d := cmp.Diff(want, specMap(t, p, hp)); d != "" {
				t.Errorf("spec (-want +got):\n%s", d)
			}
		})
	}
}

func TestSpecVariants(t *testing.T) {
	sources := map[string]bool{} // "destination <- source" of each mount
	none := plugin.Mount{Name: "m", Destination: "/m", Type: "bind"}
	tests := []struct {
		name    string
		edit    func(*plugin.Config)
		check   func(t *testing.T, nss []string, mounts []string)
		wantErr string
	}{
		{"bridge network gets a netns and etc files", func(c *plugin.Config) { c.Network.Type = "bridge" }, func(t *testing.T, nss, mounts []string) {
			want := []string{"mount", "network", "uts", "pid", "ipc"}
			if d := cmp.Diff(want, nss); d != "" {
				t.Errorf("namespaces (-want +got):\n%s", d)
			}
			if mounts[len(mounts)-2] != "/etc/hosts" || mounts[len(mounts)-1] != "/etc/resolv.conf" {
				t.Errorf("mounts end %v", mounts)
			}
		}, ""},
		{"empty network type: netns, no etc files", func(c *plugin.Config) { c.Network.Type = "" }, func(t *testing.T, nss, mounts []string) {
			if len(nss) != 5 || mounts[len(mounts)-1] != "/run/docker/plugins" {
				t.Errorf("namespaces %v, mounts %v", nss, mounts)
			}
		}, ""},
		{"pidhost ipchost", func(c *plugin.Config) { c.PidHost, c.IpcHost = true, true }, func(t *testing.T, nss, _ []string) {
			if d := cmp.Diff([]string{"mount", "network", "uts"}, nss); d != "" {
				t.Errorf("namespaces (-want +got):\n%s", d)
			}
		}, ""},
		{"mount without source", func(c *plugin.Config) { c.Mounts = []plugin.Mount{none} }, nil, "mount source is not specified"},
		{"empty bind source gets the run's own dir", func(c *plugin.Config) {
			c.Mounts = []plugin.Mount{{Name: "k", Source: ptr(""), Destination: "/root/.ssh", Type: "bind", Options: []string{"rbind"}}}
		}, func(t *testing.T, _, mounts []string) {
			if !sources["/root/.ssh <- /b"] {
				t.Errorf("mounts %v lack /root/.ssh <- /b", mounts)
			}
		}, ""},
		{"empty bind source by option", func(c *plugin.Config) {
			c.Mounts = []plugin.Mount{{Name: "k", Source: ptr(""), Destination: "/k", Options: []string{"bind", "ro"}}}
		}, func(t *testing.T, _, mounts []string) {
			if !sources["/k <- /b"] {
				t.Errorf("mounts %v lack /k <- /b", mounts)
			}
		}, ""},
		{"relative device path", func(c *plugin.Config) {
			c.Linux.Devices = []plugin.Device{{Name: "fuse", Path: ptr("dev/fuse")}}
		}, nil, `path "dev/fuse" is relative`},
		{"relative bind source", func(c *plugin.Config) {
			c.Mounts = []plugin.Mount{{Name: "k", Source: ptr("../etc"), Destination: "/k", Type: "bind"}}
		}, nil, `source "../etc" is relative`},
		{"empty source of a tmpfs is no path", func(c *plugin.Config) {
			c.Mounts = []plugin.Mount{{Name: "t", Source: ptr(""), Destination: "/t", Type: "tmpfs"}}
		}, func(t *testing.T, _, mounts []string) {
			if !sources["/t <- "] {
				t.Errorf("mounts %v lack /t <- (empty)", mounts)
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := plugin.Config{Entrypoint: []string{"/p"}, Interface: plugin.Interface{Socket: "p.sock"}, Network: plugin.Network{Type: "x"}}
			tt.edit(&cfg)
			s, err := buildSpec(Plugin{Config: cfg, Settings: cfg.DefaultSettings()}, hostPaths{rootfs: "/r", sockDir: "/s", bundle: "/b"})
			if tt.wantErr != "" {
				if err == nil || !contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var nss, mounts []string
			for _, n := range s.Linux.Namespaces {
				nss = append(nss, string(n.Type))
			}
			clear(sources)
			for _, m := range s.Mounts {
				mounts = append(mounts, m.Destination)
				sources[m.Destination+" <- "+m.Source] = true
			}
			tt.check(t, nss, mounts)
		})
	}
}
