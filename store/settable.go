package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dplug/dplug/plugin"
)

// The set rules and messages are dockerd's (moby plugin/v2/settable.go and
// Plugin.Set), so that scripts written against docker plugin set behave the
// same.
var (
	errMultipleFields = errors.New("multiple fields are settable, one must be specified")
	errInvalidFormat  = errors.New("invalid format, must be <name>[.<field>][=<value>]")
	errSetEnabled     = errors.New("cannot set on an active plugin, disable plugin before setting")
)

var (
	settableEnv     = []string{"value"}
	settableArgs    = []string{"value"}
	settableDevices = []string{"path"}
	settableMounts  = []string{"source"}
)

type setting struct{ name, field, value string }

func parseSetting(arg string) (setting, error) {
	name, field, value, ok := plugin.ParseSetting(arg)
	if !ok {
		return setting{}, errInvalidFormat
	}
	return setting{name, field, value}, nil
}

func (s *setting) pretty() string {
	if s.field != "" {
		return s.name + "." + s.field
	}
	return s.name
}

// settable resolves the field (defaulting to the only settable one) and
// reports whether it may be set.
func (s *setting) settable(allowed, declared []string) (bool, error) {
	if s.field == "" {
		switch {
		case len(declared) == 1:
			s.field = declared[0]
		case len(declared) > 1:
			return false, errMultipleFields
		}
	}
	if !contains(allowed, s.field) {
		return false, nil
	}
	return contains(declared, s.field), nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// applySettings changes p.Settings (never p.Config, which is read-only
// after install) the way dockerd's Plugin.Set does: lookup order env,
// mounts, devices, args; args values are split on single spaces.
func applySettings(p *Plugin, args []string) error {
	if p.Enabled {
		return errSetEnabled
	}
	sets := make([]setting, 0, len(args))
	for _, a := range args {
		s, err := parseSetting(a)
		if err != nil {
			return err
		}
		sets = append(sets, s)
	}
	c := &p.Config
next:
	for _, s := range sets {
		for _, e := range c.Env {
			if e.Name != s.name {
				continue
			}
			if ok, err := s.settable(settableEnv, e.Settable); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%q is not settable", s.pretty())
			}
			setEnv(&p.Settings.Env, s.name, s.value)
			continue next
		}
		for _, m := range c.Mounts {
			if m.Name != s.name {
				continue
			}
			if ok, err := s.settable(settableMounts, m.Settable); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%q is not settable", s.pretty())
			}
			if m.Source == nil {
				return errors.New("Plugin config has no mount source") //nolint:staticcheck // dockerd's message
			}
			v := s.value
			for i := range p.Settings.Mounts {
				if p.Settings.Mounts[i].Name == s.name {
					p.Settings.Mounts[i].Source = &v
				}
			}
			continue next
		}
		for _, d := range c.Linux.Devices {
			if d.Name != s.name {
				continue
			}
			if ok, err := s.settable(settableDevices, d.Settable); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%q is not settable", s.pretty())
			}
			if d.Path == nil {
				return errors.New("Plugin config has no device path") //nolint:staticcheck // dockerd's message
			}
			v := s.value
			for i := range p.Settings.Devices {
				if p.Settings.Devices[i].Name == s.name {
					p.Settings.Devices[i].Path = &v
				}
			}
			continue next
		}
		if c.Args.Name == s.name {
			if ok, err := s.settable(settableArgs, c.Args.Settable); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%q is not settable", s.pretty())
			}
			p.Settings.Args = strings.Split(s.value, " ")
			continue next
		}
		return fmt.Errorf("setting %q not found in the plugin configuration", s.name)
	}
	return nil
}

func setEnv(env *[]string, name, value string) {
	for i, e := range *env {
		if n, _, _ := strings.Cut(e, "="); n == name {
			(*env)[i] = name + "=" + value
			return
		}
	}
	*env = append(*env, name+"="+value)
}

// settableNames lists what Set may change, as its arguments spell it.
func settableNames(c *plugin.Config) []string {
	var names []string
	for _, e := range c.Env {
		if slices.Contains(e.Settable, "value") {
			names = append(names, e.Name)
		}
	}
	if slices.Contains(c.Args.Settable, "value") {
		names = append(names, c.Args.Name)
	}
	for _, m := range c.Mounts {
		if slices.Contains(m.Settable, "source") {
			names = append(names, m.Name+".source")
		}
	}
	for _, d := range c.Linux.Devices {
		if slices.Contains(d.Settable, "path") {
			names = append(names, d.Name+".path")
		}
	}
	return names
}
