package dest_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/store"
)

// TestEngine loads plugins into a real dockerd: from a plugin dir (the
// user's own: no prompt) and from an OCI layout (its privileges shown
// first); a bad name fails before the engine is asked.
func TestEngine(t *testing.T) {
	d := testenv.StartDockerdEngine(t, testenv.Engine26)
	ctx := context.Background()
	dir := testplugin.Dir(t, nil)
	layout := filepath.Join(t.TempDir(), "layout")
	if _, err := (&dest.OCILayout{Path: layout}).Deliver(ctx, open(t, dir, t.TempDir())); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, alias string
		wantPrompt        bool
		want              string // the name in the engine, or the error
	}{
		{"dir", dir, "dplugtest/fromdir", false, "dplugtest/fromdir:latest"},
		{"layout", layout, "dplugtest/fromlayout", true, "dplugtest/fromlayout:latest"},
		{"bad name", dir, "Bad Name", false, "name it with --alias NAME"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var prompted string
			var loaded *engine.Loaded
			e := &dest.Engine{Name: tc.alias, Host: d.Host, Loaded: func(l *engine.Loaded) { loaded = l },
				Grant: func(name string, privs []store.Privilege) error { prompted = name; return nil }}
			out, err := dest.WithProgress(e, nil).Deliver(ctx, open(t, tc.from, t.TempDir()))
			if strings.HasPrefix(tc.want, "name it") {
				var ie *dest.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Deliver = %q, %v; want an InputError saying %q", out, err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, d.Log())
			}
			if out != tc.want || loaded == nil || loaded.Name != tc.want || !loaded.Enabled {
				t.Errorf("Deliver = %q, Loaded %+v; want %s, enabled", out, loaded, tc.want)
			}
			if (prompted != "") != tc.wantPrompt || (tc.wantPrompt && prompted != tc.from) {
				t.Errorf("prompted for %q; want a prompt: %v (naming %s)", prompted, tc.wantPrompt, tc.from)
			}
			if got := d.MustDocker(t, "plugin", "inspect", "-f", "{{.Enabled}}", tc.want); strings.TrimSpace(got) != "true" {
				t.Errorf("docker plugin inspect: enabled %q", got)
			}
		})
	}
}

func TestCheckSettings(t *testing.T) {
	for _, tc := range []struct {
		settings []string
		wantErr  string // "": no error
	}{
		{nil, ""},
		{[]string{"DEBUG=1", "mnt.source=/x", "EMPTY="}, ""},
		{[]string{"DEBUG=1", "DEBUG"}, `setting "DEBUG": want KEY=VALUE`},
	} {
		err := dest.CheckSettings(tc.settings)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("CheckSettings(%q) = %v, want nil", tc.settings, err)
			}
			continue
		}
		var ie *dest.InputError
		if !errors.As(err, &ie) || err.Error() != tc.wantErr {
			t.Errorf("CheckSettings(%q) = %v, want an *InputError %q", tc.settings, err, tc.wantErr)
		}
	}
}
