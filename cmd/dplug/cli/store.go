package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/store"
)

// Helpers the store commands share (install, ls, inspect, rm, enable,
// disable, set, export, doctor; each in its own file).

// openStore opens the plugin store under --root. A store that cannot be
// opened is an IO error (exit 2) that names the setting to check.
func openStore(g *globalOptions) (*store.Store, error) {
	s, err := store.Open(g.Root, store.WithLogger(g.log))
	if err != nil {
		return nil, usageError(fmt.Errorf("%w (check --root or DPLUG_ROOT)", err))
	}
	return s, nil
}

// inspect is the JSON form docker plugin inspect prints.
type inspect struct {
	ID              string          `json:"Id"`
	Name            string          `json:"Name"`
	Enabled         bool            `json:"Enabled"`
	Settings        plugin.Settings `json:"Settings"`
	PluginReference string          `json:"PluginReference"`
	Config          plugin.Config   `json:"Config"`
}

func inspectView(p *store.Plugin) inspect {
	st := p.Settings
	// dockerd initialises settings with empty, not null, lists.
	if st.Args == nil {
		st.Args = []string{}
	}
	if st.Env == nil {
		st.Env = []string{}
	}
	if st.Mounts == nil {
		st.Mounts = []plugin.Mount{}
	}
	if st.Devices == nil {
		st.Devices = []plugin.Device{}
	}
	return inspect{ID: p.ID, Name: p.FullName(), Enabled: p.Enabled, Settings: st,
		PluginReference: p.PluginReference, Config: p.Config}
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
