//go:build cgo

package harness

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
)

func TestAttachNotRunning(t *testing.T) {
	cfg := plugin.Config{Entrypoint: []string{"/p"}, Interface: plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"}}
	src := &source.Source{Kind: source.Dir, Config: &cfg, Rootfs: filepath.Join(t.TempDir(), "myplug", "rootfs")}
	inst, err := Attach(src, run.WithRunRoot(t.TempDir()))
	var nr *NotRunningError
	if inst != nil || !errors.As(err, &nr) || !errors.Is(err, run.ErrNotRunning) || err.Error() != "myplug is not running" {
		t.Fatalf("Attach with no run = %v, %v; want a NotRunningError for myplug", inst, err)
	}
}
