package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dplug/dplug/plugin"
)

// Inspect is a plugin as docker plugin inspect prints it.
type Inspect struct {
	ID              string          `json:"Id"`
	Name            string          `json:"Name"`
	Enabled         bool            `json:"Enabled"`
	Settings        plugin.Settings `json:"Settings"`
	PluginReference string          `json:"PluginReference"`
	Config          plugin.Config   `json:"Config"`
}

// Inspect returns p as docker plugin inspect shows it: the full name, and
// settings with empty, not null, lists, as dockerd initialises them.
func (p *Plugin) Inspect() Inspect {
	st := p.Settings
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
	return Inspect{ID: p.ID, Name: p.FullName(), Enabled: p.Enabled, Settings: st,
		PluginReference: p.PluginReference, Config: p.Config}
}

// Row is a plugin as docker plugin ls shows it, and what an ls --format
// template sees.
type Row struct {
	ID              string
	Name            string
	Description     string
	Enabled         bool
	PluginReference string
}

// Row returns p as an ls row: the short ID unless fullID, the full name.
func (p *Plugin) Row(fullID bool) Row {
	id := p.ShortID()
	if fullID {
		id = p.ID
	}
	return Row{id, p.FullName(), p.Config.Description, p.Enabled, p.PluginReference}
}

// Inspect returns the plugins named (never nil), and errors.Join of the
// names it cannot find. A damaged inventory is its one error (ErrDamaged),
// not one per name.
func (s *Store) Inspect(names ...string) ([]Inspect, error) {
	views := []Inspect{}
	var errs []error
	for _, n := range names {
		p, err := s.Get(n)
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		views = append(views, p.Inspect())
	}
	return views, errors.Join(errs...)
}

// Filter parses docker plugin ls's --filter values into a predicate:
// enabled=BOOL and capability=NAME (an interface type's capability, e.g.
// volumedriver); several values of one key match any, keys combine with AND.
func Filter(filters []string) (func(*Plugin) bool, error) {
	want := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok || (k != "enabled" && k != "capability") {
			return nil, fmt.Errorf("invalid filter %q: use enabled=true|false or capability=NAME", f)
		}
		if k == "enabled" && v != "true" && v != "false" {
			return nil, fmt.Errorf("invalid filter %q: enabled takes true or false", f)
		}
		want[k] = append(want[k], v)
	}
	return func(p *Plugin) bool {
		if vs, ok := want["enabled"]; ok && !slices.Contains(vs, strconv.FormatBool(p.Enabled)) {
			return false
		}
		vs, ok := want["capability"]
		return !ok || slices.ContainsFunc(p.Config.Interface.Types, func(typ string) bool {
			it, err := plugin.ParseInterfaceType(typ)
			return err == nil && it.Prefix == "docker" && slices.Contains(vs, strings.ToLower(it.Capability))
		})
	}, nil
}
