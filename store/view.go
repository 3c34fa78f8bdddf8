package store

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

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

// Rows are plugins as docker plugin ls lists them.
type Rows []Row

// Rows returns the installed plugins keep accepts (a Filter; nil keeps
// every one) as ls rows sorted by name, with full IDs if fullID. The rows
// are never nil, so that no plugin is [] in JSON.
func (s *Store) Rows(keep func(*Plugin) bool, fullID bool) (Rows, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	rows := Rows{}
	for _, p := range list {
		if keep == nil || keep(p) {
			rows = append(rows, p.Row(fullID))
		}
	}
	return rows, nil
}

// descWidth is where docker plugin ls cuts a description.
const descWidth = 45

// WriteTable writes rs as docker plugin ls's table: ID, NAME, DESCRIPTION
// (cut to 45 characters, the last an ellipsis, unless noTrunc) and ENABLED.
func (rs Rows) WriteTable(w io.Writer, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tDESCRIPTION\tENABLED")
	for _, r := range rs {
		desc := r.Description
		if !noTrunc && len([]rune(desc)) > descWidth {
			desc = string([]rune(desc)[:descWidth-1]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\n", r.ID, r.Name, desc, r.Enabled)
	}
	return tw.Flush()
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
