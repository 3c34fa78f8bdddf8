package validate

import (
	"strconv"
	"strings"
)

// setting is one install-time `docker plugin set` argument:
// NAME[.FIELD][=VALUE].
type setting struct{ name, field, value string }

// parseSetting splits arg as dockerd's `docker plugin set` does; ok is
// false for a malformed one ("=VALUE").
func parseSetting(arg string) (setting, bool) {
	var s setting
	i := strings.IndexByte(arg, '=')
	switch {
	case i == 0:
		return s, false
	case i < 0:
		s.name = arg
	default:
		s.name, s.value = arg[:i], arg[i+1:]
	}
	if j := strings.LastIndexByte(s.name, '.'); j > 0 {
		s.name, s.field = s.name[:j], s.name[j+1:]
	}
	return s, true
}

// applySettings writes settings into the normalised config tree the way
// dockerd's Plugin.Set does (lookup order env, mounts, devices, args; the
// first entry of that name), so that the checks see the effective values.
// A set value keeps the position of the value it replaces (or of its
// entry, when the field was absent).
func (v *run) applySettings(root *node, settings []setting) {
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
	for _, s := range settings {
		if e := find(root.get("Env").objElems(), s.name); e != nil {
			if s.field == "" || s.field == "value" {
				setMember(e, "Value", &node{kind: kString, str: s.value})
			}
			continue // another field: the store refuses it
		}
		if m := find(root.get("Mounts").objElems(), s.name); m != nil {
			if s.field == "" || s.field == "source" {
				setMember(m, "Source", &node{kind: kString, str: s.value})
			}
			continue
		}
		if d := find(devs, s.name); d != nil {
			if s.field == "" || s.field == "path" {
				setMember(d, "Path", &node{kind: kString, str: s.value})
			}
			continue
		}
		if args := root.get("Args"); args != nil && args.kind == kObject {
			if n, _ := args.get("Name").strVal(); n == s.name && (s.field == "" || s.field == "value") {
				arr := &node{kind: kArray}
				for _, a := range strings.Split(s.value, " ") {
					arr.elems = append(arr.elems, &node{kind: kString, str: a})
				}
				setMember(args, "Value", arr)
			}
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
