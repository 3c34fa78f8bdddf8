package store

// Tests written against the survivors of `make mutate` (issue 13): each
// pins a behaviour of the store no other test looked at.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// TestNewIDIsNotANumber: plugin IDs are 64 hex digits whose 12-digit short
// form is never all decimal digits (dockerd's rule: it would read as a
// number).
func TestNewIDIsNotANumber(t *testing.T) {
	for range 200 {
		id, err := newID()
		if err != nil {
			t.Fatal(err)
		}
		if !validID.MatchString(id) {
			t.Fatalf("newID() = %q: not 64 lowercase hex digits", id)
		}
		if strings.Trim(id[:12], "0123456789") == "" {
			t.Fatalf("newID() = %q: its short ID is a number", id)
		}
	}
}

// TestOpenLogs: Open warns of plugin dirs no plugin owns (only when there
// are some) and logs the leftovers it removed from tmp/.
func TestOpenLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, root := openStore(t, WithLogger(log))
	install(t, s, "a")
	if _, err := Open(root, WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "no plugin owns") || strings.Contains(buf.String(), "removed leftover") {
		t.Fatalf("Open of a clean store logged:\n%s", buf.String())
	}
	orphan := filepath.Join(s.Dir(), strings.Repeat("ab", 32))
	leftover := filepath.Join(s.Dir(), tmpDir, "work-1")
	for _, d := range []string{orphan, leftover} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(root, WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN msg=\"plugin store has directories no plugin owns; run 'dplug doctor' to see them\" count=1") {
		t.Errorf("Open with one orphan dir logged:\n%s", out)
	}
	if !strings.Contains(out, "removed leftover\" path="+leftover) {
		t.Errorf("Open that removed %s logged:\n%s", leftover, out)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover %s not removed: %v", leftover, err)
	}
}

// TestInstallNilGrant: with no Grant, a plugin that asks for nothing
// installs, and one that asks for any privilege is refused before anything
// is written.
func TestInstallNilGrant(t *testing.T) {
	plain := testConfig()
	plain.Mounts, plain.Linux.Devices = nil, nil
	hostNet := plain
	hostNet.Network.Type = "host"
	tests := []struct {
		name string
		cfg  plugin.Config
		want error
	}{
		{"no privileges", plain, nil},
		{"host network", hostNet, ErrNotGranted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, root := openStore(t)
			_, err := s.Install(context.Background(), DirSource(pluginDir(t, tt.cfg)), InstallOptions{Name: "p"})
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Install with no Grant: error %v, want %v", err, tt.want)
			}
			n := 0
			if tt.want == nil {
				n = 1
			}
			assertClean(t, root, n)
		})
	}
}

// TestSetErrors: a failed Set names the plugin and lists what is settable
// (or says nothing is), and an enabled plugin is refused with ErrEnabled.
func TestSetErrors(t *testing.T) {
	fixed := testConfig()
	fixed.Env, fixed.Args, fixed.Mounts, fixed.Linux.Devices = []plugin.Env{{Name: "FIXED", Value: strp("x")}}, plugin.Args{}, nil, nil
	tests := []struct {
		name    string
		cfg     plugin.Config
		enabled bool
		args    []string
		wantErr string
		is      error
	}{
		{name: "lists the settables", cfg: testConfig(), args: []string{"FIXED=1"},
			wantErr: `plugin p:latest: "FIXED" is not settable (settable: DEBUG, UNSET, args, data.source, nosrc.source, fuse.path)`},
		{name: "nothing settable", cfg: fixed, args: []string{"FIXED=1"},
			wantErr: `plugin p:latest: "FIXED" is not settable (nothing in its config.json is settable)`},
		{name: "enabled", cfg: testConfig(), enabled: true, args: []string{"DEBUG=1"},
			wantErr: "plugin p:latest is enabled: cannot set on an active plugin, disable plugin before setting (`dplug disable p:latest`)", is: ErrEnabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openStore(t)
			opts := InstallOptions{Name: "p", Grant: GrantAll, Disabled: !tt.enabled}
			if _, err := s.Install(context.Background(), DirSource(pluginDir(t, tt.cfg)), opts); err != nil {
				t.Fatal(err)
			}
			_, err := s.Set("p", tt.args)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Set(%q) error = %v, want %q", tt.args, err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

// TestExportTarget: Export writes into a dir that does not exist yet or
// exists and is empty, and refuses one with anything in it.
func TestExportTarget(t *testing.T) {
	s, _ := openStore(t)
	install(t, s, "plug")
	tests := []struct {
		name    string
		prepare func(dir string) error
		wantErr string
	}{
		{name: "missing", prepare: func(string) error { return nil }},
		{name: "empty", prepare: func(dir string) error { return os.Mkdir(dir, 0o755) }},
		{name: "not empty", prepare: func(dir string) error {
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
		}, wantErr: "exporting plug:latest: " + "DIR is not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "export")
			if err := tt.prepare(dir); err != nil {
				t.Fatal(err)
			}
			err := s.Export(context.Background(), "plug", dir)
			if tt.wantErr != "" {
				if want := strings.Replace(tt.wantErr, "DIR", dir, 1); err == nil || err.Error() != want {
					t.Fatalf("Export error = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "rootfs/bin/plug")); err != nil {
				t.Errorf("exported rootfs: %v", err)
			}
		})
	}
}

// TestDoctorFixReports: Doctor(true) reports what it did, not only what
// Doctor(false) would do: the orphan it moved aside (with where to), and,
// after rebuilding a damaged inventory, the plugin-settings.json it
// rewrote from the rebuilt entry.
func TestDoctorFixReports(t *testing.T) {
	t.Run("orphan moved aside", func(t *testing.T) {
		s, root := openStore(t)
		install(t, s, "keep")
		id := strings.Repeat("d", 64)
		unknown := filepath.Join(root, "plugins", id)
		if err := os.MkdirAll(filepath.Join(unknown, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
		r, err := s.Doctor(true)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(root, "plugins", lostFoundDir, id)
		if len(r.MovedAside) != 1 || r.MovedAside[0].From != unknown || r.MovedAside[0].To != want {
			t.Errorf("Doctor(true).MovedAside = %+v, want %s moved to %s", r.MovedAside, unknown, want)
		}
	})
	t.Run("every unaccounted dir moved aside in a rebuild", func(t *testing.T) {
		s, root := openStore(t)
		install(t, s, "a")
		plugins := filepath.Join(root, "plugins")
		if err := os.WriteFile(filepath.Join(plugins, inventoryFile), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		junk := []string{filepath.Join(plugins, "junk1"), filepath.Join(plugins, "junk2")}
		for _, d := range junk {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Doctor(true)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.MovedAside) != 3 {
			t.Fatalf("Doctor(true).MovedAside = %+v, want the damaged inventory and two dirs", r.MovedAside)
		}
		for i, d := range junk {
			m := r.MovedAside[1+i]
			if m.From != d || filepath.Dir(m.To) != filepath.Join(plugins, lostFoundDir) {
				t.Errorf("MovedAside[%d] = %+v, want %s moved to lost+found", 1+i, m, d)
			}
			if _, err := os.Lstat(d); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s not moved aside: %v", d, err)
			}
		}
	})
	t.Run("settings resynced after a rebuild", func(t *testing.T) {
		s, root := openStore(t)
		p := install(t, s, "a", func(o *InstallOptions) { o.Settings = []string{"DEBUG=7"} })
		// A damaged inventory and a damaged settings file: the rebuild takes
		// the settings from the config's defaults (the backup does not list
		// the plugin), and the file is rewritten to match.
		if err := os.WriteFile(filepath.Join(root, "plugins", inventoryFile), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		settings := filepath.Join(p.Dir, settingsFile)
		if err := os.Chmod(settings, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(settings, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := s.Doctor(true)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Recovered) != 1 || r.Recovered[0].Note == "" {
			t.Fatalf("Doctor(true).Recovered = %+v, want the plugin with a note on its settings", r.Recovered)
		}
		if diff := cmp.Diff([]string{settings}, r.Resynced); diff != "" {
			t.Errorf("Doctor(true).Resynced (-want +got):\n%s", diff)
		}
		got, err := s.Get(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := marshalSettings(&got.Settings)
		if b, _ := os.ReadFile(settings); string(b) != string(want) {
			t.Errorf("plugin-settings.json after Doctor(true) = %q, want %q", b, want)
		}
	})
}

// TestRemovedByLastChange: an orphan is the leftover of the last change
// only if the backup lists it and the change did nothing but drop it, or
// swap it for one complete plugin of the same name.
func TestRemovedByLastChange(t *testing.T) {
	withRootfs := t.TempDir()
	if err := os.Mkdir(filepath.Join(withRootfs, rootfsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	id := func(c string) string { return strings.Repeat(c, 64) }
	plug := func(c, name string, dir string) *Plugin {
		return &Plugin{ID: id(c), Name: name, Tag: "latest", Dir: dir}
	}
	old := plug("a", "plug", "")
	tests := []struct {
		name     string
		inv, bak inventory
		want     bool
	}{
		{"removed", inventory{}, inventory{old.ID: old}, true},
		{"not in the backup", inventory{}, inventory{}, false},
		{"another plugin dropped too", inventory{}, inventory{old.ID: old, id("b"): plug("b", "b", "")}, false},
		{"replaced", inventory{id("c"): plug("c", "plug", withRootfs)}, inventory{old.ID: old}, true},
		{"replaced by an incomplete plugin", inventory{id("c"): plug("c", "plug", t.TempDir())}, inventory{old.ID: old}, false},
		{"replaced under another name", inventory{id("c"): plug("c", "other", withRootfs)}, inventory{old.ID: old}, false},
		{"two plugins added", inventory{id("c"): plug("c", "plug", withRootfs), id("d"): plug("d", "plug", withRootfs)}, inventory{old.ID: old}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := removedByLastChange(old.ID, tt.inv, tt.bak); got != tt.want {
				t.Errorf("removedByLastChange = %v, want %v", got, tt.want)
			}
		})
	}
}
