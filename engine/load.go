package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	mplugin "github.com/moby/moby/api/types/plugin"
	"github.com/moby/moby/client"

	"github.com/dplug/dplug/plugin"
)

// LoadOption configures Load.
type LoadOption func(*loadOptions)

type loadOptions struct {
	settings []string
	force    bool
	noEnable bool
	timeout  int
}

// WithSettings applies `docker plugin set` arguments (KEY=VALUE,
// mount.source=PATH, device.path=PATH, args=V...) after those carried over
// from the plugin being replaced, so they win.
func WithSettings(args ...string) LoadOption {
	return func(o *loadOptions) { o.settings = append(o.settings, args...) }
}

// WithForce replaces a plugin even while volumes, networks or containers
// use it (default: refuse with the engine's reason).
func WithForce(f bool) LoadOption { return func(o *loadOptions) { o.force = f } }

// WithDisabled leaves the loaded plugin disabled when d is true (default:
// enable it).
func WithDisabled(d bool) LoadOption { return func(o *loadOptions) { o.noEnable = d } }

// WithEnableTimeout sets the engine's enable timeout in seconds (default
// 0: the engine's own, about 12.5 s of socket dials on every version).
func WithEnableTimeout(s int) LoadOption { return func(o *loadOptions) { o.timeout = s } }

// Loaded is what Load did.
type Loaded struct {
	// Name is the plugin's name in the engine (tagged, e.g. me/vol:latest).
	Name string `json:"name"`
	ID   string `json:"id"`
	// Replaced says an existing plugin of that name was replaced.
	Replaced bool `json:"replaced"`
	// Carried are the replaced plugin's settings applied to the new one.
	Carried []string `json:"carried,omitempty"`
	// Dropped are the replaced plugin's settings the new config no longer
	// lets be set.
	Dropped []string `json:"dropped,omitempty"`
	Enabled bool     `json:"enabled"`
}

// WriteNotes writes what the user should know about a replaced plugin's
// settings, a line each: those carried over, and a warning for those
// dropped. Nothing when no plugin was replaced.
func (l *Loaded) WriteNotes(w io.Writer) {
	if len(l.Carried) > 0 {
		fmt.Fprintf(w, "kept the replaced plugin's settings: %s\n", strings.Join(l.Carried, " "))
	}
	if len(l.Dropped) > 0 {
		fmt.Fprintf(w, "warning: dropped settings the new config no longer lets be set: %s\n", strings.Join(l.Dropped, " "))
	}
}

// InUseError says the engine refused to disable the plugin being
// replaced because something uses it; nothing was changed.
type InUseError struct {
	Name string
	Err  error
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("not replacing %s: the Docker Engine refuses to disable it: %v (remove what uses it, or --force to replace it anyway)", e.Name, e.Err)
}

func (e *InUseError) Unwrap() error { return e.Err }

// StateError says a load failed after the engine was changed, and what
// the engine now holds.
type StateError struct {
	Name string
	// Step is what failed: "create", "set" or "enable".
	Step string
	// State describes the engine's state for the plugin.
	State string
	Err   error
}

func (e *StateError) Error() string {
	return fmt.Sprintf("loading %s: %s failed: %v; %s", e.Name, e.Step, e.Err, e.State)
}

func (e *StateError) Unwrap() error { return e.Err }

// Name normalises a plugin name the way the engine stores it
// (reference.ParseNormalizedNamed + the default tag), returned in its
// familiar form (me/vol:latest).
func Name(name string) (string, error) {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", fmt.Errorf("plugin name %q: %w", name, err)
	}
	if _, ok := ref.(reference.Canonical); ok {
		return "", fmt.Errorf("plugin name %q: a digest cannot name a local plugin", name)
	}
	return reference.FamiliarString(reference.TagNameOnly(ref)), nil
}

// Load creates the plugin src in the engine under name, applies settings
// and enables it.
//
// Replacing a plugin of the same name: the engine has no rename and no way
// to export a plugin's rootfs, so the old one cannot be kept aside while
// the new one is created. Load therefore does everything that can fail
// without the engine first — the config is parsed, the settings to carry
// over are computed from the old plugin and checked, with the caller's,
// against the new config — then disables the old plugin (refused, with the
// engine's reason, while something uses it unless WithForce: nothing has
// changed then), removes it, creates the new one, sets and enables it. A
// failure after the removal is a *StateError saying what the engine holds
// and the old settings to re-apply.
func (e *Engine) Load(ctx context.Context, src Source, name string, opts ...LoadOption) (*Loaded, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	name, err := Name(name)
	if err != nil {
		return nil, err
	}
	raw, err := src.ConfigJSON(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := plugin.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", name, err)
	}
	res := &Loaded{Name: name}
	var old *mplugin.Plugin
	got, err := e.API.PluginInspect(ctx, name, client.PluginInspectOptions{})
	switch {
	case err == nil:
		old = &got.Plugin
		res.Replaced = true
		res.Carried, res.Dropped = carryOver(got.Plugin, cfg)
	case !cerrdefs.IsNotFound(err):
		return nil, fmt.Errorf("looking up plugin %s in the Docker Engine: %w", name, err)
	}
	settings := append(append([]string(nil), res.Carried...), o.settings...)
	if err := checkSettings(cfg, settings); err != nil {
		return nil, fmt.Errorf("loading %s: %w", name, err)
	}

	if old != nil {
		if old.Enabled {
			if _, err := e.API.PluginDisable(ctx, name, client.PluginDisableOptions{Force: o.force}); err != nil {
				if !o.force && strings.Contains(err.Error(), "in use") {
					return nil, &InUseError{Name: name, Err: err}
				}
				return nil, fmt.Errorf("disabling %s to replace it: %w", name, err)
			}
		}
		if _, err := e.API.PluginRemove(ctx, name, client.PluginRemoveOptions{Force: o.force}); err != nil {
			err = fmt.Errorf("removing %s to replace it: %w", name, err)
			if old.Enabled {
				if _, eerr := e.API.PluginEnable(ctx, name, client.PluginEnableOptions{}); eerr != nil {
					return nil, &StateError{Name: name, Step: "remove", State: "the old plugin is installed but disabled (re-enabling it failed: " + eerr.Error() + ")", Err: err}
				}
			}
			return nil, err
		}
	}

	gone := "nothing is installed under that name"
	if old != nil {
		gone = "the old plugin was removed and nothing is installed under that name"
		if len(res.Carried) > 0 {
			gone += "; its settings were: " + strings.Join(res.Carried, " ")
		}
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(ctx, pw, src, raw)) }()
	_, err = e.API.PluginCreate(ctx, pr, client.PluginCreateOptions{RepoName: name})
	pr.CloseWithError(errors.New("plugin create returned"))
	if err != nil {
		return nil, &StateError{Name: name, Step: "create", State: gone, Err: err}
	}
	if len(settings) > 0 {
		if _, err := e.API.PluginSet(ctx, name, client.PluginSetOptions{Args: settings}); err != nil {
			return nil, &StateError{Name: name, Step: "set", State: "the new plugin is installed, disabled, without these settings: " + strings.Join(settings, " "), Err: err}
		}
	}
	if got, err := e.API.PluginInspect(ctx, name, client.PluginInspectOptions{}); err == nil {
		res.ID = got.Plugin.ID
	}
	if o.noEnable {
		return res, nil
	}
	if _, err := e.API.PluginEnable(ctx, name, client.PluginEnableOptions{Timeout: o.timeout}); err != nil {
		return nil, &StateError{Name: name, Step: "enable", State: fmt.Sprintf("the new plugin is installed and disabled (its own log lines are in the Docker Engine's log); fix it and load again, or `docker plugin enable %s`", name), Err: err}
	}
	res.Enabled = true
	return res, nil
}
