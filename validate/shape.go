package validate

import (
	"strconv"
	"strings"
)

// shape is the structure dockerd decodes at one location of a document: the
// canonical key names of an object (moby's Go field names), or an array's
// element shape. A nil shape is an unknown location (ignored by dockerd).
type shape struct {
	kind   byte // kObject, kArray, or 0 for a scalar
	fields []field
	elem   *shape
}

type field struct {
	name string
	s    *shape
}

var (
	scalarShape   = &shape{}
	strArrayShape = &shape{kind: kArray, elem: scalarShape}

	envShape = &shape{kind: kObject, fields: []field{
		{"Description", scalarShape}, {"Name", scalarShape}, {"Settable", strArrayShape}, {"Value", scalarShape},
	}}
	argsShape = &shape{kind: kObject, fields: []field{
		{"Description", scalarShape}, {"Name", scalarShape}, {"Settable", strArrayShape}, {"Value", strArrayShape},
	}}
	deviceShape = &shape{kind: kObject, fields: []field{
		{"Description", scalarShape}, {"Name", scalarShape}, {"Path", scalarShape}, {"Settable", strArrayShape},
	}}
	mountShape = &shape{kind: kObject, fields: []field{
		{"Description", scalarShape}, {"Destination", scalarShape}, {"Name", scalarShape}, {"Options", strArrayShape},
		{"Settable", strArrayShape}, {"Source", scalarShape}, {"Type", scalarShape},
	}}
	interfaceShape = &shape{kind: kObject, fields: []field{
		{"ProtocolScheme", scalarShape}, {"Socket", scalarShape}, {"Types", strArrayShape},
	}}
	linuxShape = &shape{kind: kObject, fields: []field{
		{"AllowAllDevices", scalarShape}, {"Capabilities", strArrayShape}, {"Devices", &shape{kind: kArray, elem: deviceShape}},
	}}
	networkShape = &shape{kind: kObject, fields: []field{{"Type", scalarShape}}}
	userShape    = &shape{kind: kObject, fields: []field{{"GID", scalarShape}, {"UID", scalarShape}}}
	rootfsShape  = &shape{kind: kObject, fields: []field{{"diff_ids", strArrayShape}, {"type", scalarShape}}}

	// configShape is moby's PluginConfig.
	configShape = &shape{kind: kObject, fields: []field{
		{"Args", argsShape},
		{"Description", scalarShape},
		{"DockerVersion", scalarShape},
		{"Documentation", scalarShape},
		{"Entrypoint", strArrayShape},
		{"Env", &shape{kind: kArray, elem: envShape}},
		{"Interface", interfaceShape},
		{"IpcHost", scalarShape},
		{"Linux", linuxShape},
		{"Mounts", &shape{kind: kArray, elem: mountShape}},
		{"Network", networkShape},
		{"PidHost", scalarShape},
		{"PropagatedMount", scalarShape},
		{"User", userShape},
		{"WorkDir", scalarShape},
		{"rootfs", rootfsShape},
	}}

	// settingsShape is moby's PluginSettings.
	settingsShape = &shape{kind: kObject, fields: []field{
		{"Args", strArrayShape},
		{"Devices", &shape{kind: kArray, elem: deviceShape}},
		{"Env", strArrayShape},
		{"Mounts", &shape{kind: kArray, elem: mountShape}},
	}}
)

// lookup finds the field key decodes into, as encoding/json does: an exact
// match, else a case-insensitive (Unicode simple folding) one.
func (s *shape) lookup(key string) *field {
	for i := range s.fields {
		if s.fields[i].name == key {
			return &s.fields[i]
		}
	}
	for i := range s.fields {
		if strings.EqualFold(s.fields[i].name, key) {
			return &s.fields[i]
		}
	}
	return nil
}

// acceptedCase reports whether key is a spelling of canonical that needs no
// warning: canonical itself, all lowercase (the style of most real configs)
// or lower camel case (the style of moby's docs/extend/config.md).
func acceptedCase(key, canonical string) bool {
	if key == canonical {
		return true
	}
	if len(key) != len(canonical) || len(key) == 0 {
		return false
	}
	lower := true // key is canonical in lowercase
	for i := 0; i < len(key); i++ {
		c := canonical[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if key[i] != c {
			lower = false
			break
		}
	}
	if lower {
		return true
	}
	// lower camel: only the first letter lowered
	c0 := canonical[0]
	return 'A' <= c0 && c0 <= 'Z' && key[0] == c0+('a'-'A') && key[1:] == canonical[1:]
}

// get returns the member with the canonical key name, or nil. After
// normalisation keys are canonical and unique.
func (n *node) get(name string) *node {
	if n == nil || n.kind != kObject {
		return nil
	}
	for _, m := range n.members {
		if m.key == name {
			return m
		}
	}
	return nil
}

// isNull reports whether n is absent or JSON null: both leave a Go field at
// its zero value.
func (n *node) isNull() bool { return n == nil || n.kind == kNull }

// strVal returns n's string value; ok is false for anything but a string.
func (n *node) strVal() (string, bool) {
	if n == nil || n.kind != kString {
		return "", false
	}
	return n.str, true
}

// strings returns the string elements of array n with their nodes (non-string
// elements are skipped: the schema reports them).
func (n *node) stringElems() []*node {
	if n == nil || n.kind != kArray {
		return nil
	}
	out := make([]*node, 0, len(n.elems))
	for _, e := range n.elems {
		if e.kind == kString {
			out = append(out, e)
		}
	}
	return out
}

// objElems returns the object elements of array n.
func (n *node) objElems() []*node {
	if n == nil || n.kind != kArray {
		return nil
	}
	out := make([]*node, 0, len(n.elems))
	for _, e := range n.elems {
		if e.kind == kObject {
			out = append(out, e)
		}
	}
	return out
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// normalise rewrites n's keys to their canonical case for shape sh, resolves
// duplicate keys like encoding/json (the last one wins), sets JSON pointers,
// and reports unknown keys, unusual case and duplicates.
func (v *run) normalise(n *node, sh *shape, ptr string, root bool) {
	n.ptr = ptr
	if sh == nil {
		return
	}
	switch {
	case n.kind == kObject && sh.kind == kObject:
		kept := n.members[:0:0]
		for _, m := range n.members {
			var child *shape
			f := sh.lookup(m.key)
			if f != nil {
				m.key = f.name
				child = f.s
			}
			m.ptr = ptr + "/" + escapePointer(m.key)
			if f == nil {
				m.unknown = true
				v.unknownKey(m, sh, root)
			} else if !acceptedCase(m.rawKey, f.name) {
				v.add("DP104", m, posKey, "key %q is not in canonical case: dockerd reads it as %q", m.rawKey, f.name).
					hint("write %q (or %q)", f.name, strings.ToLower(f.name))
			}
			for i, k := range kept {
				if !m.unknown && k.key == m.key {
					v.add("DP004", k, posKey, "duplicate key %q: overridden by %q at %s", k.rawKey, m.rawKey, v.where(m.keyOff)).
						hint("remove one of them; dockerd keeps the last")
					v.shadowed = append(v.shadowed, k)
					kept = append(kept[:i], kept[i+1:]...)
					break
				}
			}
			kept = append(kept, m)
			if child != nil {
				v.normalise(m, child, m.ptr, false)
			}
		}
		n.members = kept
	case n.kind == kArray && sh.kind == kArray:
		for i, e := range n.elems {
			v.normalise(e, sh.elem, ptr+"/"+strconv.Itoa(i), false)
		}
	}
}

// styledKey spells canonical key name the way the keys of object parent
// are spelled: all lowercase when they are (the style of most real
// configs), lower camel case when they start lowercase (moby's docs), else
// canonical. An empty object counts as lowercase.
func styledKey(parent *node, name string) string {
	lower, initial := true, true
	known := 0
	for _, m := range parent.members {
		if m.unknown || m.rawKey == "" {
			continue
		}
		known++
		if m.rawKey != strings.ToLower(m.rawKey) {
			lower = false
		}
		if c := m.rawKey[0]; c < 'a' || c > 'z' {
			initial = false
		}
	}
	switch {
	case known == 0 || lower:
		return strings.ToLower(name)
	case initial && name[0] >= 'A' && name[0] <= 'Z':
		return string(name[0]+'a'-'A') + name[1:]
	}
	return name
}

// rawPointer rewrites canonical pointer ptr with the keys as the file spells
// them, so that it resolves in the file; members that are absent are
// spelled like their siblings (styledKey). Only diagnostics pay for this.
func (v *run) rawPointer(ptr string) string {
	if ptr == "" || v.root == nil {
		return ptr
	}
	var b strings.Builder
	n := v.root
	for _, tok := range strings.Split(ptr[1:], "/") {
		raw := tok
		switch {
		case n == nil:
		case n.kind == kObject:
			key := strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			var next *node
			for _, m := range n.members {
				if m.key == key {
					next = m
					break
				}
			}
			if next != nil {
				raw = escapePointer(next.rawKey)
			} else {
				raw = escapePointer(styledKey(n, key))
			}
			n = next
		case n.kind == kArray:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.elems) {
				n = nil
			} else {
				n = n.elems[i]
			}
		default:
			n = nil
		}
		b.WriteByte('/')
		b.WriteString(raw)
	}
	return b.String()
}

// nestedNames maps a lowercase key to where it belongs, for keys written at
// the top level that belong in a section.
var nestedNames = []struct{ key, where string }{
	{"types", "interface.types"},
	{"socket", "interface.socket"},
	{"protocolscheme", "interface.protocolscheme"},
	{"allowalldevices", "linux.allowAllDevices"},
	{"uid", "user.uid"},
	{"gid", "user.gid"},
	{"source", "mounts[].source"},
	{"destination", "mounts[].destination"},
}

func (v *run) unknownKey(m *node, sh *shape, root bool) {
	if root && v.kind == KindConfig {
		switch strings.ToLower(m.key) {
		case "$schema":
			return // editor support: dockerd ignores it, and so do we
		case "capabilities":
			v.add("DP106", m, posKey, "top-level %q is the 1.12-era format: modern dockerd silently ignores it, so the plugin gets none of these capabilities", m.key).
				hint(`move it into "linux": {"capabilities": [...]}`)
			return
		case "devices":
			v.add("DP107", m, posKey, "top-level %q is the 1.12-era format: modern dockerd silently ignores it, so the plugin gets none of these devices", m.key).
				hint(`move it into "linux": {"devices": [...]}`)
			return
		case "manifestversion":
			v.add("DP103", m, posKey, "unknown key %q: a 1.12-era manifest field, dockerd ignores it", m.key).
				hint("remove it")
			return
		}
		for _, nn := range nestedNames {
			if strings.EqualFold(m.key, nn.key) {
				v.add("DP103", m, posKey, "unknown key %q at the top level: dockerd ignores it", m.key).
					hint("did you mean %s?", nn.where)
				return
			}
		}
	}
	d := v.add("DP103", m, posKey, "unknown key %q: dockerd ignores it", m.key)
	if s := suggest(m.key, sh); s != "" {
		d.hint("did you mean %q?", s)
	} else {
		d.hint("remove it, or check the spelling against `dplug schema`")
	}
}

// suggest returns the field of sh closest to key by edit distance, or "".
func suggest(key string, sh *shape) string {
	lk := strings.ToLower(key)
	best, bestD := "", 0
	for _, f := range sh.fields {
		d := levenshtein(lk, strings.ToLower(f.name))
		if best == "" || d < bestD {
			best, bestD = f.name, d
		}
	}
	limit := 2
	if l := len(lk) / 3; l > limit {
		limit = l
	}
	if best == "" || bestD > limit {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
