package harness

import (
	"testing"

	"github.com/dplug/dplug/run"
)

func TestMissingWarning(t *testing.T) {
	s := &Session{Plugin: run.Plugin{Name: "vol"}, Implements: []string{"NetworkDriver"}, Missing: []string{"VolumeDriver"}}
	s.Plugin.Config.Interface.Types = []string{"docker.volumedriver/1.0"}
	want := "vol declares docker.volumedriver/1.0 but its /Plugin.Activate answer implements [NetworkDriver]: missing VolumeDriver"
	if got := s.MissingWarning(); got != want {
		t.Errorf("MissingWarning = %q; want %q", got, want)
	}
	s.Missing = nil
	if got := s.MissingWarning(); got != "" {
		t.Errorf("nothing missing: %q", got)
	}
}
