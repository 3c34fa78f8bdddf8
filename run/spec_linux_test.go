package run

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// TestSpecMatchesDockerd builds the spec for the plugin whose runtime spec
// was captured from dockerd 20.10.24 and diffs the two field by field. The
// host paths are dockerd's own, passed in as this run's paths; ociVersion
// (the runtime-spec module's) and cgroupsPath (dockerd leaves it to
// containerd) are the only fields allowed to differ.
func TestSpecMatchesDockerd(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("the captured plugin uses /dev/fuse, which this machine lacks")
	}
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
	s, err := buildSpec(Plugin{ID: id, Config: cfg, Settings: cfg.DefaultSettings()}, hostPaths{
		rootfs:     pdir + "/rootfs",
		sockDir:    "/run/docker/plugins/" + id,
		propagated: pdir + "/propagated-mount",
		cgroup:     "/dplug/" + id,
	})
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	// Captured from a live dockerd (see DOCKERD-FACTS.md in the team's reference).
	wantJSON, err := os.ReadFile("testdata/oci-spec-20.10.24.json")
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(gotJSON, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(wantJSON, &want); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]any{got, want} {
		delete(m, "ociVersion")
		delete(m["linux"].(map[string]any), "cgroupsPath")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("spec differs from dockerd's (-dockerd +dplug):\n%s", d)
	}
}

func TestSpecVariants(t *testing.T) {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := plugin.Config{Entrypoint: []string{"/p"}, Interface: plugin.Interface{Socket: "p.sock"}, Network: plugin.Network{Type: "x"}}
			tt.edit(&cfg)
			s, err := buildSpec(Plugin{Config: cfg, Settings: cfg.DefaultSettings()}, hostPaths{rootfs: "/r", sockDir: "/s"})
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
			for _, m := range s.Mounts {
				mounts = append(mounts, m.Destination)
			}
			tt.check(t, nss, mounts)
		})
	}
}
