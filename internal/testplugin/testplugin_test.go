package testplugin

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// TestModeConfig: a mode is volplug's TESTPLUGIN_MODE on top of Config;
// no mode is Config itself.
func TestModeConfig(t *testing.T) {
	if diff := cmp.Diff(Config(), ModeConfig("")); diff != "" {
		t.Errorf("ModeConfig(\"\") is not Config() (-want +got):\n%s", diff)
	}
	want := Config()
	crash := "crash"
	want.Env = append(want.Env, plugin.Env{Name: "TESTPLUGIN_MODE", Value: &crash})
	if diff := cmp.Diff(want, ModeConfig("crash")); diff != "" {
		t.Errorf("ModeConfig(\"crash\") (-want +got):\n%s", diff)
	}
}
