package store

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
)

func strp(s string) *string { return &s }

// checkConfig fails t unless the plugin dir dir's config.json is
// testConfig().
func checkConfig(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := plugin.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(testConfig(), *cfg); diff != "" {
		t.Errorf("%s (-want +got):\n%s", filepath.Join(dir, "config.json"), diff)
	}
}

// testConfig is a small volume plugin config with every kind of settable.
func testConfig() plugin.Config {
	return plugin.Config{
		Description:   "test plugin",
		Documentation: "https://example.com",
		Entrypoint:    []string{"/bin/plug"},
		Interface:     plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "plug.sock"},
		Env: []plugin.Env{
			{Name: "DEBUG", Settable: []string{"value"}, Value: strp("0")},
			{Name: "FIXED", Value: strp("x")},
			{Name: "UNSET", Settable: []string{"value"}},
		},
		Args:   plugin.Args{Name: "args", Settable: []string{"value"}, Value: []string{"-v"}},
		Mounts: []plugin.Mount{{Name: "data", Source: strp("/var/lib/x"), Destination: "/data", Type: "bind", Options: []string{"rbind"}, Settable: []string{"source"}}, {Name: "nosrc", Destination: "/n", Settable: []string{"source"}}},
		Linux:  plugin.Linux{Devices: []plugin.Device{{Name: "fuse", Path: strp("/dev/fuse"), Settable: []string{"path"}}}},
	}
}

// pluginDir writes a plugin dir (testplugin.Write) for cfg with a few
// rootfs files and a symlink.
func pluginDir(t *testing.T, cfg plugin.Config) string {
	t.Helper()
	return testplugin.Write(t, &cfg, map[string]testplugin.File{
		"bin/plug":  testplugin.Exec("#!/bin/sh\n"),
		"etc/conf":  testplugin.Exec("c\n"),
		"bin/alias": {Symlink: "plug"},
	})
}

func openStore(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	s, err := Open(root, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func install(t *testing.T, s *Store, name string, opts ...func(*InstallOptions)) *Plugin {
	t.Helper()
	o := InstallOptions{Name: name, Grant: GrantAll}
	for _, f := range opts {
		f(&o)
	}
	p, err := s.Install(context.Background(), DirSource(pluginDir(t, testConfig())), o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInstallLayout(t *testing.T) {
	s, root := openStore(t)
	p := install(t, s, "example.com/team/plug:1.0")
	if p.Name != "example.com/team/plug" || p.Tag != "1.0" || !p.Enabled || len(p.ID) != 64 {
		t.Fatalf("installed %+v", p)
	}
	dir := filepath.Join(root, "plugins", p.ID)
	if p.Dir != dir || p.Rootfs() != filepath.Join(dir, "rootfs") {
		t.Errorf("Dir = %s, Rootfs = %s", p.Dir, p.Rootfs())
	}
	for path, mode := range map[string]fs.FileMode{
		filepath.Join(root, "plugins"):                 fs.ModeDir | 0o700,
		filepath.Join(root, "plugins", "plugins.json"): 0o600,
		filepath.Join(dir, "config.json"):              0o444,
		filepath.Join(dir, "plugin-settings.json"):     0o600,
		filepath.Join(dir, "rootfs", "bin", "plug"):    0o755,
		filepath.Join(dir, "rootfs", "bin", "alias"):   fs.ModeSymlink | 0o777,
	} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s mode = %v, want %v", path, fi.Mode(), mode)
		}
	}
	checkConfig(t, dir)
	if ents, _ := os.ReadDir(filepath.Join(root, "plugins", "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ not empty after install: %v", ents)
	}
	want := []string{"DEBUG=0", "FIXED=x"}
	if diff := cmp.Diff(want, p.Settings.Env); diff != "" {
		t.Errorf("default env (-want +got):\n%s", diff)
	}
}

func TestGet(t *testing.T) {
	s, _ := openStore(t)
	a := install(t, s, "plug")
	b := install(t, s, "other/plug:2")
	tests := []struct {
		query   string
		want    *Plugin
		wantErr string
	}{
		{query: "plug", want: a},
		{query: "plug:latest", want: a},
		{query: "docker.io/library/plug:latest", want: a},
		{query: "other/plug:2", want: b},
		{query: "docker.io/other/plug:2", want: b},
		{query: a.ID, want: a},
		{query: a.ShortID(), want: a},
		{query: "other/plug", wantErr: `plugin "other/plug" not found`},
		{query: "nope", wantErr: `plugin "nope" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, err := s.Get(tt.query)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get(%q) error = %v, want %q", tt.query, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tt.want.ID {
				t.Errorf("Get(%q) = %s, want %s", tt.query, got.FullName(), tt.want.FullName())
			}
		})
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list {
		names = append(names, p.FullName())
	}
	if diff := cmp.Diff([]string{"other/plug:2", "plug:latest"}, names); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestInstallErrors(t *testing.T) {
	s, root := openStore(t)
	install(t, s, "plug")
	priv := testConfig()
	priv.Network.Type = "host"
	tests := []struct {
		name    string
		cfg     plugin.Config
		opts    InstallOptions
		wantErr string
		is      error
	}{
		{name: "exists", cfg: testConfig(), opts: InstallOptions{Name: "plug:latest", Grant: GrantAll}, wantErr: "plugin plug:latest already exists", is: ErrExists},
		{name: "alias exists", cfg: testConfig(), opts: InstallOptions{Name: "x", Alias: "plug", Grant: GrantAll}, wantErr: "plugin plug:latest already exists", is: ErrExists},
		{name: "bad name", cfg: testConfig(), opts: InstallOptions{Name: "UPPER", Grant: GrantAll}, wantErr: `invalid plugin name "UPPER"`},
		{name: "digest name", cfg: testConfig(), opts: InstallOptions{Name: "x@sha256:" + strings.Repeat("a", 64), Grant: GrantAll}, wantErr: "cannot contain a digest"},
		{name: "not granted", cfg: priv, opts: InstallOptions{Name: "p2"}, wantErr: "installing p2:latest: privileges not granted", is: ErrNotGranted},
		{name: "grant refused", cfg: priv, opts: InstallOptions{Name: "p2", Grant: func([]Privilege) error { return ErrNotGranted }}, is: ErrNotGranted},
		{name: "bad setting", cfg: testConfig(), opts: InstallOptions{Name: "p3", Grant: GrantAll, Settings: []string{"FIXED=1"}}, wantErr: `installing p3:latest: "FIXED" is not settable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Install(context.Background(), DirSource(pluginDir(t, tt.cfg)), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Install error = %v, want %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			assertClean(t, root, 1)
		})
	}
}

// assertClean checks that the store holds exactly n plugin dirs, all in the
// inventory, and nothing under tmp/.
func assertClean(t *testing.T, root string, n int) {
	t.Helper()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.readInventory()
	if err != nil {
		t.Fatal(err)
	}
	if len(inv) != n {
		t.Errorf("inventory has %d plugins, want %d", len(inv), n)
	}
	orphans, err := s.orphans(inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(orphans) > 0 {
		t.Errorf("orphan dirs: %v", orphans)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "plugins", "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ not empty: %v", ents)
	}
}

// layers is a Source serving hand-built tar layers.
type layers struct {
	cfg    []byte
	layers [][]byte
}

func (l layers) ConfigJSON(context.Context) ([]byte, error) { return l.cfg, nil }
func (l layers) Layers(_ context.Context, fn func(io.Reader) error) error {
	for _, b := range l.layers {
		if err := fn(bytes.NewReader(b)); err != nil {
			return err
		}
	}
	return nil
}

func mktar(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestInstallMaliciousLayers(t *testing.T) {
	many := make([]*tar.Header, 0, 101)
	for i := 0; i <= 100; i++ {
		many = append(many, &tar.Header{Name: "f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "/" + string(rune('a'+i/26)), Typeflag: tar.TypeReg})
	}
	tests := []struct {
		name    string
		hdrs    []*tar.Header
		wantErr string
	}{
		{name: "traversal", hdrs: []*tar.Header{{Name: "../../../evil", Typeflag: tar.TypeReg, Size: 1}}, wantErr: `archive entry "../../../evil": path contains ".."`},
		{name: "absolute", hdrs: []*tar.Header{{Name: "/evil", Typeflag: tar.TypeReg}}, wantErr: "absolute path"},
		{name: "symlink escape", hdrs: []*tar.Header{{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../.."}, {Name: "up/evil", Typeflag: tar.TypeReg}}, wantErr: `symlink target "../../.." escapes`},
		{name: "hardlink escape", hdrs: []*tar.Header{{Name: "pw", Typeflag: tar.TypeLink, Linkname: "../../../../etc/passwd"}}, wantErr: "hard link target"},
		{name: "device node", hdrs: []*tar.Header{{Name: "dev/kmsg", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 11}}, wantErr: "device node not allowed"},
		{name: "huge file count", hdrs: many, wantErr: "more than 100 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, root := openStore(t, WithExtractOptions(archive.WithMaxEntries(100)))
			c := testConfig()
			cfg, _ := c.Marshal()
			src := layers{cfg: cfg, layers: [][]byte{mktar(t, tt.hdrs...)}}
			_, err := s.Install(context.Background(), src, InstallOptions{Name: "evil", Grant: GrantAll})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Install error = %v, want %q", err, tt.wantErr)
			}
			assertClean(t, root, 0)
			// Nothing appeared next to the store root.
			ents, _ := os.ReadDir(filepath.Dir(root))
			for _, e := range ents {
				if e.Name() == "evil" {
					t.Errorf("wrote %s outside the store", e.Name())
				}
			}
		})
	}
}

func TestInstallDirWithDevice(t *testing.T) {
	testenv.RequireRoot(t) // mknod
	dir := pluginDir(t, testConfig())
	if err := syscallMknod(filepath.Join(dir, "rootfs", "null")); err != nil {
		t.Fatal(err)
	}
	s, root := openStore(t)
	_, err := s.Install(context.Background(), DirSource(dir), InstallOptions{Name: "dev", Grant: GrantAll})
	if err == nil || !strings.Contains(err.Error(), `archive entry "null": device node not allowed`) {
		t.Fatalf("Install error = %v, want device node refused", err)
	}
	assertClean(t, root, 0)
}

func TestEnableDisableRemove(t *testing.T) {
	s, root := openStore(t)
	p := install(t, s, "plug")
	if _, err := s.Enable("plug"); err == nil || err.Error() != "plugin already enabled: plugin plug:latest is enabled" {
		t.Errorf("Enable of enabled = %v", err)
	}
	if err := s.Remove("plug", false); !errors.Is(err, ErrEnabled) || err.Error() != "plugin plug:latest is enabled" {
		t.Errorf("Remove of enabled = %v", err)
	}
	if q, err := s.Disable(p.ShortID()); err != nil || q.Enabled {
		t.Fatalf("Disable = %+v, %v", q, err)
	}
	if _, err := s.Disable("plug"); err == nil || err.Error() != "plugin is already disabled: plugin plug:latest found but disabled" {
		t.Errorf("Disable of disabled = %v", err)
	}
	if got, _ := s.Get("plug"); got.Enabled {
		t.Error("Disable not persisted")
	}
	if err := s.Remove("plug", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("plugin dir still there: %v", err)
	}
	install(t, s, "plug2")
	if err := s.Remove("plug2", true); err != nil {
		t.Fatalf("Remove -f of enabled: %v", err)
	}
	assertClean(t, root, 0)
	if err := s.Remove("plug2", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove of missing = %v", err)
	}
}

func TestExport(t *testing.T) {
	s, _ := openStore(t)
	src := pluginDir(t, testConfig())
	if _, err := s.Install(context.Background(), DirSource(src), InstallOptions{Name: "plug", Grant: GrantAll}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "export")
	if err := s.Export(context.Background(), "plug", out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"rootfs/bin/plug", "rootfs/etc/conf"} {
		a, _ := os.ReadFile(filepath.Join(src, f))
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs after export: %v", f, err)
		}
	}
	if l, err := os.Readlink(filepath.Join(out, "rootfs/bin/alias")); err != nil || l != "plug" {
		t.Errorf("symlink = %q, %v", l, err)
	}
	checkConfig(t, out)
	if err := s.Export(context.Background(), "plug", out); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("Export into a non-empty dir = %v", err)
	}
}

func TestDoctor(t *testing.T) {
	s, root := openStore(t)
	p := install(t, s, "plug")
	plugins := filepath.Join(root, "plugins")
	// A killed install's work dir, a killed atomic write and an orphan.
	os.MkdirAll(filepath.Join(plugins, "tmp", "work-123", "rootfs", "bin"), 0o755)
	os.WriteFile(filepath.Join(plugins, "tmp", ".plugins.json.456"), []byte("{"), 0o600)
	orphan := filepath.Join(plugins, strings.Repeat("ab", 32))
	os.MkdirAll(filepath.Join(orphan, "rootfs"), 0o755)
	os.Remove(filepath.Join(p.Dir, "plugin-settings.json"))

	r, err := s.Doctor(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Removed) != 2 || len(r.Orphans) != 1 || r.Orphans[0] != orphan || len(r.Resynced) != 1 {
		t.Fatalf("Doctor(false) = %+v", r)
	}
	if _, err := os.Stat(orphan); err != nil {
		t.Errorf("Doctor without fix removed the orphan: %v", err)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Errorf("orphan listed as a plugin: %v", list)
	}
	if r, err = s.Doctor(true); err != nil || len(r.Orphans) != 1 {
		t.Fatalf("Doctor(true) = %+v, %v", r, err)
	}
	assertClean(t, root, 1)
	if r, err = s.Doctor(false); err != nil || len(r.Orphans)+len(r.Removed)+len(r.Resynced)+len(r.Missing) != 0 {
		t.Errorf("Doctor after fix = %+v, %v", r, err)
	}
}

func TestPrivileges(t *testing.T) {
	c := plugin.Config{
		Network: plugin.Network{Type: "host"}, IpcHost: true, PidHost: true,
		Mounts: []plugin.Mount{{Source: strp("/var/lib")}, {Name: "nosource"}},
		Linux: plugin.Linux{AllowAllDevices: true, Capabilities: []string{"CAP_SYS_ADMIN"},
			Devices: []plugin.Device{{Path: strp("/dev/fuse")}, {Name: "nopath"}}},
	}
	want := []Privilege{
		{"network", "permissions to access a network", []string{"host"}},
		{"host ipc namespace", "allow access to host ipc namespace", []string{"true"}},
		{"host pid namespace", "allow access to host pid namespace", []string{"true"}},
		{"mount", "host path to mount", []string{"/var/lib"}},
		{"device", "host device to access", []string{"/dev/fuse"}},
		{"allow-all-devices", "allow 'rwm' access to all devices", []string{"true"}},
		{"capabilities", "list of additional capabilities required", []string{"CAP_SYS_ADMIN"}},
	}
	if diff := cmp.Diff(want, Privileges(&c)); diff != "" {
		t.Errorf("Privileges (-want +got):\n%s", diff)
	}
	for _, typ := range []string{"", "bridge", "null"} {
		if got := Privileges(&plugin.Config{Network: plugin.Network{Type: typ}}); len(got) != 0 {
			t.Errorf("network %q: Privileges = %v, want none", typ, got)
		}
	}
	if got := Privileges(&plugin.Config{Network: plugin.Network{Type: "none"}}); len(got) != 1 {
		t.Errorf(`network "none" is a privilege in dockerd; got %v`, got)
	}
}

func TestInstallReplace(t *testing.T) {
	s, root := openStore(t)
	first := install(t, s, "plug", func(o *InstallOptions) { o.Disabled = true })
	second := install(t, s, "plug", func(o *InstallOptions) { o.Replace = true })
	if first.ID == second.ID {
		t.Fatal("replace kept the old ID")
	}
	if _, err := os.Stat(first.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("replaced plugin dir still there: %v", err)
	}
	if got, err := s.Get("plug"); err != nil || got.ID != second.ID {
		t.Errorf("Get after replace = %v, %v", got, err)
	}
	// second is enabled: not replaceable.
	_, err := s.Install(context.Background(), DirSource(pluginDir(t, testConfig())), InstallOptions{Name: "plug", Replace: true, Grant: GrantAll})
	if !errors.Is(err, ErrEnabled) {
		t.Errorf("replacing an enabled plugin: %v", err)
	}
	assertClean(t, root, 1)
}

// The grant prompt shows what the plugin will run with: a mount source or
// device path given as an install-time setting replaces the config's.
func TestInstallGrantShowsSettings(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var asked []Privilege
	_, err = s.Install(context.Background(), DirSource(pluginDir(t, testConfig())), InstallOptions{
		Name:     "me/p:1",
		Settings: []string{"data.source=/srv/data", "fuse=/dev/null"},
		Grant:    func(ps []Privilege) error { asked = ps; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range asked {
		if p.Name == "mount" || p.Name == "device" {
			got = append(got, p.Name+"="+strings.Join(p.Value, ","))
		}
	}
	want := []string{"mount=/srv/data", "device=/dev/null"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("privileges asked (-want +got):\n%s", diff)
	}
}
