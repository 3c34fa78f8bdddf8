package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"

	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
)

// FromStore is the run.Plugin of an installed plugin: its store ID names
// the run.
func FromStore(p *store.Plugin) run.Plugin {
	return run.Plugin{ID: p.ID, Name: p.FullName(), Rootfs: p.Rootfs(), Config: p.Config, Settings: p.Settings}
}

// FromSource is the run.Plugin of a resolved plugin dir or installed
// plugin (source.Dir | source.Installed). A plugin dir has no store ID: its
// ID is derived from the dir's path, so that another process (dplug stop,
// dplug logs) finds the same run, and its settings are the config's
// defaults.
func FromSource(src *source.Source) run.Plugin {
	if p := src.Stored; p != nil {
		return FromStore(p)
	}
	dir := filepath.Dir(src.Rootfs)
	sum := sha256.Sum256([]byte(dir))
	return run.Plugin{ID: hex.EncodeToString(sum[:]), Name: filepath.Base(dir), Rootfs: src.Rootfs,
		Config: *src.Config, Settings: src.Config.DefaultSettings()}
}

// NotRunningError is a plugin with no run to attach to: it was not started
// detached, or its run was stopped. It wraps run.ErrNotRunning.
type NotRunningError struct{ Name string }

func (e *NotRunningError) Error() string { return e.Name + " is not running" }

func (e *NotRunningError) Unwrap() error { return run.ErrNotRunning }

// Attach finds the run of src (a plugin dir or an installed plugin,
// identified as FromSource does) that another process started, as `dplug
// run --detach` does, for `dplug stop` and `dplug logs`; opts find the
// runs. A plugin with no run is a *NotRunningError.
func Attach(src *source.Source, opts ...run.Option) (*run.Instance, error) {
	p := FromSource(src)
	inst, err := run.Load(p.ID, opts...)
	if errors.Is(err, run.ErrNotRunning) {
		return nil, &NotRunningError{Name: p.Name}
	}
	return inst, err
}
