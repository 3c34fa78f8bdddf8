package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/store"
)

// TestLoadReplace loads the test volume plugin into each engine, uses it,
// is refused a replace while a volume uses it, then replaces it with the
// user's setting carried over.
func TestLoadReplace(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		d := testenv.StartDockerdEngine(t, e)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		eng, err := engine.Connect(ctx, engine.WithHost(d.Host))
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()

		cfg := testplugin.Config()
		zero := "0"
		cfg.Env = []plugin.Env{{Name: "DEBUG", Settable: []string{"value"}, Value: &zero}}
		src := store.DirSource(testplugin.Dir(t, &cfg))

		got, err := eng.Load(ctx, src, "dplugtest/vol", engine.WithSettings("DEBUG=1"))
		if err != nil {
			t.Fatalf("first load: %v\n%s", err, d.Log())
		}
		if got.Name != "dplugtest/vol:latest" || !got.Enabled || got.Replaced {
			t.Fatalf("first load = %+v", got)
		}
		d.MustDocker(t, "volume", "create", "-d", got.Name, "v1")

		// In use: refused, and the old plugin is untouched and enabled.
		_, err = eng.Load(ctx, src, "dplugtest/vol")
		var inUse *engine.InUseError
		if !errors.As(err, &inUse) {
			t.Fatalf("load over a plugin in use: err = %v, want *InUseError", err)
		}
		if p := inspect(ctx, t, eng, got.Name); !p.Enabled || p.ID != got.ID {
			t.Fatalf("after the refusal the plugin is %+v, want the old one enabled", p)
		}

		d.MustDocker(t, "volume", "rm", "v1")
		again, err := eng.Load(ctx, src, "dplugtest/vol")
		if err != nil {
			t.Fatalf("reload: %v\n%s", err, d.Log())
		}
		if !again.Replaced || !again.Enabled || !slices.Equal(again.Carried, []string{"DEBUG=1"}) {
			t.Fatalf("reload = %+v, want replaced, enabled, DEBUG=1 carried", again)
		}
		if p := inspect(ctx, t, eng, got.Name); !slices.Contains(p.Settings.Env, "DEBUG=1") {
			t.Fatalf("settings after reload: %v, want DEBUG=1", p.Settings.Env)
		}
		d.MustDocker(t, "volume", "create", "-d", got.Name, "v2")

		// --force replaces a plugin in use.
		if _, err := eng.Load(ctx, src, "dplugtest/vol", engine.WithForce(true)); err != nil {
			t.Fatalf("forced reload: %v", err)
		}

		// A plugin that cannot start: a *StateError at enable, and the
		// engine holds the new plugin, disabled.
		bad := testplugin.Config()
		bad.Entrypoint = []string{"/no-such-binary"}
		_, err = eng.Load(ctx, store.DirSource(testplugin.Dir(t, &bad)), "dplugtest/bad")
		var se *engine.StateError
		if !errors.As(err, &se) || se.Step != "enable" || !strings.Contains(err.Error(), "installed and disabled") {
			t.Fatalf("load of a plugin that cannot start: err = %v, want a *StateError at enable", err)
		}
		if p := inspect(ctx, t, eng, "dplugtest/bad"); p.Enabled {
			t.Errorf("the plugin that failed to enable is enabled")
		}
	})
}

func inspect(ctx context.Context, t *testing.T, eng *engine.Engine, name string) struct {
	Enabled  bool
	ID       string
	Settings struct{ Env []string }
} {
	t.Helper()
	r, err := eng.API.PluginInspect(ctx, name, client.PluginInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Enabled  bool
		ID       string
		Settings struct{ Env []string }
	}
	out.Enabled, out.ID, out.Settings.Env = r.Plugin.Enabled, r.Plugin.ID, r.Plugin.Settings.Env
	return out
}
