package run

// Tests written against the survivors of `make mutate` (issue 13) in the
// runtime spec: each pins a behaviour of buildSpec or devicesFromPath that
// the dockerd comparisons do not reach.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/plugin"
)

// TestEmptyBindSourceNeedsARunDir: a bind mount with an empty source gets
// the run's own dir; with none to give, the spec is refused rather than
// binding "" (runc would resolve it against the caller's working dir).
func TestEmptyBindSourceNeedsARunDir(t *testing.T) {
	cfg := plugin.Config{Entrypoint: []string{"/p"}, Interface: plugin.Interface{Socket: "p.sock"},
		Mounts: []plugin.Mount{{Name: "k", Source: ptr(""), Destination: "/k", Type: "bind"}}}
	_, err := buildSpec(Plugin{Config: cfg, Settings: cfg.DefaultSettings()}, hostPaths{rootfs: "/r", sockDir: "/s"})
	if err == nil || !contains(err.Error(), "mount /k: the source is empty and this run has no dir") {
		t.Fatalf("error %v, want the empty source refused", err)
	}
}

// fakeDevices is a stat that reports the named paths as the given device
// nodes and every other path as a regular file.
func fakeDevices(nodes map[string]unix.Stat_t) func(string, *unix.Stat_t) error {
	return func(path string, st *unix.Stat_t) error {
		if n, ok := nodes[path]; ok {
			*st = n
			return nil
		}
		if _, err := os.Lstat(path); err != nil {
			return unix.ENOENT
		}
		*st = unix.Stat_t{Mode: unix.S_IFREG | 0o644}
		return nil
	}
}

// TestSettingsDevicesWin: the devices of the plugin's settings (dplug set
// fuse.path=...) are the ones the spec gets, not the config's defaults, as
// dockerd's InitSpec reads p.PluginObj.Settings.Devices.
func TestSettingsDevicesWin(t *testing.T) {
	cfg := plugin.Config{Entrypoint: []string{"/p"}, Interface: plugin.Interface{Socket: "p.sock"},
		Linux: plugin.Linux{Devices: []plugin.Device{{Name: "fuse", Path: ptr("/dev/fuse")}}}}
	p := Plugin{Config: cfg, Settings: cfg.DefaultSettings()}
	p.Settings.Devices[0].Path = ptr("/dev/other")
	stat := fakeDevices(map[string]unix.Stat_t{
		"/dev/fuse":  {Mode: unix.S_IFCHR | 0o600, Rdev: unix.Mkdev(10, 229)},
		"/dev/other": {Mode: unix.S_IFCHR | 0o600, Rdev: unix.Mkdev(10, 42)},
	})
	s, err := buildSpec(p, hostPaths{rootfs: "/r", sockDir: "/s", stat: stat})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range s.Linux.Devices {
		got = append(got, d.Path)
	}
	if d := cmp.Diff([]string{"/dev/other"}, got); d != "" {
		t.Errorf("devices (-want +got):\n%s", d)
	}
}

// TestDevicesFromDir: a device path naming a directory gives every device
// node below it (char and block, with their numbers, mode and owner) and a
// rule allowing each, as moby's oci.DevicesFromPath does; other files are
// passed over.
func TestDevicesFromDir(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a", "plain", "sub/c"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stat := fakeDevices(map[string]unix.Stat_t{
		filepath.Join(dir, "a"):     {Mode: unix.S_IFCHR | 0o620, Rdev: unix.Mkdev(10, 200), Uid: 7, Gid: 8},
		filepath.Join(dir, "sub/c"): {Mode: unix.S_IFBLK | 0o660, Rdev: unix.Mkdev(8, 1)},
	})
	nodes, rules, err := devicesFromPath(dir, stat)
	if err != nil {
		t.Fatal(err)
	}
	mode := func(m os.FileMode) *os.FileMode { return &m }
	want := []specs.LinuxDevice{
		{Path: filepath.Join(dir, "a"), Type: "c", Major: 10, Minor: 200, FileMode: mode(0o620), UID: ptr[uint32](7), GID: ptr[uint32](8)},
		{Path: filepath.Join(dir, "sub/c"), Type: "b", Major: 8, Minor: 1, FileMode: mode(0o660), UID: ptr[uint32](0), GID: ptr[uint32](0)},
	}
	if d := cmp.Diff(want, nodes); d != "" {
		t.Errorf("nodes (-want +got):\n%s", d)
	}
	wantRules := []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](200), Access: "rwm"},
		{Allow: true, Type: "b", Major: ptr[int64](8), Minor: ptr[int64](1), Access: "rwm"},
	}
	if d := cmp.Diff(wantRules, rules); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
}

// TestDevicesFromPathErrors: what devicesFromPath refuses, each with its
// reason.
func TestDevicesFromPathErrors(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(empty, "plain")
	broken := func(string, *unix.Stat_t) error { return unix.EACCES }
	for _, tt := range []struct {
		name, path string
		stat       func(string, *unix.Stat_t) error
		want       string
	}{
		{"a dir without device nodes", empty, fakeDevices(nil), "adding devices under " + empty + ": no device nodes found"},
		{"a regular file", file, fakeDevices(nil), "adding device " + file + ": not a device node or directory"},
		{"a missing path", filepath.Join(empty, "none"), fakeDevices(nil), "adding device " + filepath.Join(empty, "none")},
		{"a node that cannot be read", "/dev/x", broken, "adding device /dev/x: stat /dev/x: permission denied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nodes, rules, err := devicesFromPath(tt.path, tt.stat)
			if err == nil || !contains(err.Error(), tt.want) || nodes != nil || rules != nil {
				t.Fatalf("devicesFromPath(%s) = %v, %v, %v; want the error %q", tt.path, nodes, rules, err, tt.want)
			}
		})
	}
}
