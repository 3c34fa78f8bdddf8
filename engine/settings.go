package engine

import (
	"fmt"
	"slices"
	"strings"

	mplugin "github.com/moby/moby/api/types/plugin"

	"github.com/dplug/dplug/plugin"
)

// carryOver lists, as `docker plugin set` arguments, the settings of an
// installed plugin that differ from its config's defaults — what its user
// set — split into those the new config lets be set (kept) and the rest
// (dropped, which the caller reports).
func carryOver(old mplugin.Plugin, next *plugin.Config) (kept, dropped []string) {
	add := func(arg, name, field string) {
		if settableIn(next, name, field) {
			kept = append(kept, arg)
		} else {
			dropped = append(dropped, arg)
		}
	}
	defaults := map[string]string{}
	for _, e := range old.Config.Env {
		if e.Value != nil {
			defaults[e.Name] = *e.Value
		}
	}
	for _, kv := range old.Settings.Env {
		k, v, _ := strings.Cut(kv, "=")
		if d, ok := defaults[k]; !ok || d != v {
			add(kv, k, "value")
		}
	}
	for _, m := range old.Settings.Mounts {
		for _, c := range old.Config.Mounts {
			if c.Name == m.Name && c.Name != "" && m.Source != nil && !eqPtr(c.Source, m.Source) {
				add(m.Name+".source="+*m.Source, m.Name, "source")
			}
		}
	}
	for _, d := range old.Settings.Devices {
		for _, c := range old.Config.Linux.Devices {
			if c.Name == d.Name && c.Name != "" && d.Path != nil && !eqPtr(c.Path, d.Path) {
				add(d.Name+".path="+*d.Path, d.Name, "path")
			}
		}
	}
	if n := old.Config.Args.Name; n != "" && !slices.Equal(old.Settings.Args, old.Config.Args.Value) {
		add(n+"="+strings.Join(old.Settings.Args, " "), n, "value")
	}
	return kept, dropped
}

func eqPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// settableIn reports whether name.field may be set on a plugin with
// config c, with dockerd's lookup order (env, mounts, devices, args).
func settableIn(c *plugin.Config, name, field string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return slices.Contains(e.Settable, field) && field == "value"
		}
	}
	for _, m := range c.Mounts {
		if m.Name == name {
			return slices.Contains(m.Settable, field) && field == "source" && m.Source != nil
		}
	}
	for _, d := range c.Linux.Devices {
		if d.Name == name {
			return slices.Contains(d.Settable, field) && field == "path" && d.Path != nil
		}
	}
	return c.Args.Name == name && slices.Contains(c.Args.Settable, field) && field == "value"
}

// checkSettings checks `set` arguments against c before anything in the
// engine is touched, with the messages dockerd would give at set time.
func checkSettings(c *plugin.Config, args []string) error {
	for _, a := range args {
		name, _, hasValue := strings.Cut(a, "=")
		if name == "" || !hasValue {
			return fmt.Errorf("setting %q: invalid format, must be <name>[.<field>]=<value>", a)
		}
		field := ""
		if i := strings.LastIndex(name, "."); i > 0 {
			name, field = name[:i], name[i+1:]
		}
		if field == "" {
			field = defaultField(c, name)
		}
		if field == "" {
			return fmt.Errorf("setting %q: %q not found in the plugin configuration", a, name)
		}
		if !settableIn(c, name, field) {
			return fmt.Errorf("setting %q: %q is not settable", a, name+"."+field)
		}
	}
	return nil
}

// defaultField is the field `set NAME=V` means: the only settable one.
func defaultField(c *plugin.Config, name string) string {
	one := func(s []string) string {
		if len(s) == 1 {
			return s[0]
		}
		return "?"
	}
	for _, e := range c.Env {
		if e.Name == name {
			return one(e.Settable)
		}
	}
	for _, m := range c.Mounts {
		if m.Name == name {
			return one(m.Settable)
		}
	}
	for _, d := range c.Linux.Devices {
		if d.Name == name {
			return one(d.Settable)
		}
	}
	if c.Args.Name == name {
		return one(c.Args.Settable)
	}
	return ""
}
