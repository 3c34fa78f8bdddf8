package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dplug/dplug/plugin"
)

// setting is one install-time `docker plugin set` argument:
// NAME[.FIELD][=VALUE].
type setting struct{ name, field, value string }

// parseSetting splits arg as dockerd's `docker plugin set` does; ok is
// false for a malformed one ("=VALUE").
func parseSetting(arg string) (setting, bool) {
	name, field, value, ok := plugin.ParseSetting(arg)
	return setting{name, field, value}, ok
}

// applySettings writes settings into the normalised config tree the way
// dockerd's Plugin.Set does (lookup order env, mounts, devices, args; the
// first entry of that name; the field defaults to the only settable one),
// so that the checks see the effective values. A set value keeps the
// position of the value it replaces (or of its entry, when the field was
// absent). A setting docker plugin set would refuse is DP701, with
// dockerd's message.
func (v *run) applySettings(root *node, settings []string) {
	if len(settings) == 0 || root.kind != kObject {
		return
	}
	var devs []*node
	if linux := root.get("Linux"); linux != nil {
		devs = linux.get("Devices").objElems()
	}
	find := func(entries []*node, name string) *node {
		for _, e := range entries {
			if n, _ := e.get("Name").strVal(); n == name {
				return e
			}
		}
		return nil
	}
	refuse := func(at *node, arg, format string, args ...any) {
		v.add("DP701", at, posKey, "install-time setting %q: docker plugin set refuses it: %s", arg, fmt.Sprintf(format, args...)).
			hint("settings are NAME=VALUE or NAME.FIELD=VALUE for a settable env or args value, mount source or device path")
	}
	for _, arg := range settings {
		s, ok := parseSetting(arg)
		if !ok {
			refuse(root, arg, "invalid format, must be <name>[.<field>][=<value>]")
			continue
		}
		var e *node
		var allowed, field string
		switch {
		case find(root.get("Env").objElems(), s.name) != nil:
			e, allowed, field = find(root.get("Env").objElems(), s.name), "value", "Value"
		case find(root.get("Mounts").objElems(), s.name) != nil:
			e, allowed, field = find(root.get("Mounts").objElems(), s.name), "source", "Source"
		case find(devs, s.name) != nil:
			e, allowed, field = find(devs, s.name), "path", "Path"
		default:
			if args := root.get("Args"); args != nil && args.kind == kObject {
				if n, _ := args.get("Name").strVal(); n == s.name {
					e, allowed, field = args, "value", "Value"
				}
			}
		}
		if e == nil {
			refuse(root, arg, "setting %q not found in the plugin configuration", s.name)
			continue
		}
		var declared []string
		for _, d := range e.get("Settable").stringElems() {
			declared = append(declared, d.str)
		}
		f := s.field
		if f == "" && len(declared) > 1 {
			refuse(e, arg, "multiple fields are settable, one must be specified")
			continue
		}
		if f == "" && len(declared) == 1 {
			f = declared[0]
		}
		if f != allowed || !slices.Contains(declared, f) {
			pretty := s.name
			if s.field != "" {
				pretty += "." + s.field
			}
			refuse(e, arg, "%q is not settable", pretty)
			continue
		}
		switch {
		case field == "Source" && e.get("Source").isNull():
			refuse(e, arg, "Plugin config has no mount source")
		case field == "Path" && e.get("Path").isNull():
			refuse(e, arg, "Plugin config has no device path")
		case e == root.get("Args"):
			arr := &node{kind: kArray}
			for _, a := range strings.Split(s.value, " ") {
				arr.elems = append(arr.elems, &node{kind: kString, str: a})
			}
			setMember(e, "Value", arr)
		default:
			setMember(e, field, &node{kind: kString, str: s.value})
		}
	}
}

// setMember replaces (or adds) member key of object e with value n, which
// takes the place of the old value in positions and pointers.
func setMember(e *node, key string, n *node) {
	old := e.get(key)
	at := old
	if at == nil {
		at = &node{off: e.off, keyOff: e.keyOff, rawKey: styledKey(e, key), ptr: e.ptr + "/" + key}
		if e.keyOff < 0 {
			at.keyOff = e.off
		}
	}
	n.off, n.keyOff, n.key, n.rawKey, n.ptr, n.set = at.off, at.keyOff, key, at.rawKey, at.ptr, true
	for i, el := range n.elems {
		idx := "/" + strconv.Itoa(i)
		el.off, el.keyOff, el.ptr, el.set = n.off, -1, n.ptr+idx, true
	}
	for i, m := range e.members {
		if m == old {
			e.members[i] = n
			return
		}
	}
	e.members = append(e.members, n)
}
