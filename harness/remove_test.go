package harness

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/store"
)

func TestRemove(t *testing.T) {
	cfg := plugin.Config{Description: "p", Entrypoint: []string{"/p"},
		Interface: plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"}}
	dir := testplugin.Write(t, &cfg, map[string]testplugin.File{"p": {Body: "#!/bin/sh\n", Mode: 0o755}})
	root := t.TempDir()
	runs := run.WithRunRoot(filepath.Join(root, "runs"))
	for _, tt := range []struct {
		name    string
		force   bool
		remove  []string
		removed []string
		err     string
		is      error
	}{
		{name: "disabled", remove: []string{"off"}, removed: []string{"off"}},
		{name: "enabled", remove: []string{"on", "off"}, removed: []string{"off"},
			err: "plugin on:latest is enabled (disable it first, or use --force)", is: store.ErrEnabled},
		{name: "forced", force: true, remove: []string{"on"}, removed: []string{"on"}},
		{name: "missing", remove: []string{"nosuch", "off"}, removed: []string{"off"}, is: store.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(filepath.Join(root, tt.name))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"on", "off"} {
				opts := store.InstallOptions{Name: n, Disabled: n == "off", Grant: store.GrantAll}
				if _, err := s.Install(context.Background(), store.DirSource(dir), opts); err != nil {
					t.Fatal(err)
				}
			}
			removed, err := Remove(context.Background(), s, tt.remove, tt.force, runs)
			if diff := cmp.Diff(tt.removed, removed); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			switch {
			case tt.is == nil && err != nil:
				t.Fatalf("Remove: %v", err)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Fatalf("Remove error %v, want %v", err, tt.is)
			case tt.err != "" && err.Error() != tt.err:
				t.Errorf("Remove error %q, want %q", err, tt.err)
			}
			for _, n := range removed {
				if _, err := s.Get(n); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s still installed: %v", n, err)
				}
			}
		})
	}
}
