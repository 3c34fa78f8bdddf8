package validate

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Bytes validates one document held in memory. name is the path reported
// in diagnostics and, with KindAuto, decides the kind (plugin-settings.json
// is settings, anything else a config). The result is sorted by position;
// it is empty when the document is clean. Bytes never panics, whatever data
// holds.
func Bytes(name string, data []byte, opts ...Option) []Diagnostic {
	o := makeOptions(opts)
	return check(name, data, &o)
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func check(name string, data []byte, o *options) []Diagnostic {
	v := &run{name: name, kind: o.kind.resolve(name), aud: o.aud, li: lineIndex{data: data}}
	if int64(len(data)) > o.maxSize {
		v.diags = append(v.diags, Diagnostic{File: name, Severity: Error, Rule: "DP003",
			Message: fmt.Sprintf("file is %d bytes, larger than the %d-byte cap: not a plugin config", len(data), o.maxSize),
			Hint:    "check that this is the right file (plugin configs are a few KiB)"})
		return v.diags
	}
	start := 0
	if bytes.HasPrefix(data, bom) {
		v.addAt("DP002", 0, "", "file starts with a UTF-8 byte order mark: encoding/json, and so dockerd, rejects it (\"invalid character 'ï' looking for beginning of value\")").
			hint("save the file as UTF-8 without BOM")
		start = len(bom)
	}
	root, serr := parseJSON(data, start)
	if serr != nil {
		v.addAt(serr.rule, serr.off, "", "%s", serr.msg).hint("%s", syntaxHint(data, serr))
		sortDiags(v.diags)
		return v.diags
	}
	sh := configShape
	if v.kind == KindSettings {
		sh = settingsShape
	}
	v.root = root
	v.normalise(root, sh, "", true)
	if root.kind == kNull && v.kind == KindSettings {
		return v.diags // encoding/json decodes null as empty settings: harmless
	}
	if v.kind == KindConfig {
		if msg, hint := notPluginConfig(root); msg != "" {
			// One line, not a cascade of missing fields; DP100 stays for
			// parity with dockerd's decoder, and so does a byte order mark
			// (DP002), which makes dockerd refuse the file before anything.
			kept := v.diags[:0]
			for _, d := range v.diags {
				if d.Rule == "DP002" {
					kept = append(kept, d)
				}
			}
			v.diags = kept
			v.add("DP007", root, posValue, "%s", msg).hint("%s", hint)
			for _, d := range v.schemaCheck(root) {
				if d.Rule == "DP100" && root.kind == kObject {
					v.diags = append(v.diags, d)
				}
			}
			// A wrongly typed value under a key a later duplicate
			// shadows still fails dockerd's decoder (DP100).
			n := len(v.diags)
			v.checkShadowed()
			kept = v.diags[:n]
			for _, d := range v.diags[n:] {
				if d.Rule == "DP100" {
					kept = append(kept, d)
				}
			}
			v.diags = kept
			sortDiags(v.diags)
			return v.diags
		}
		v.applySettings(root, o.settings)
	}
	schemaDiags := v.schemaCheck(root)
	if root.kind == kObject {
		if v.kind == KindSettings {
			v.checkSettings(root)
		} else {
			v.checkConfig(root)
		}
	}
	// The semantic rules say the same thing better: keep a schema finding
	// only where no rule already reported at that pointer. Type errors
	// (DP100) always stay: the semantic rules skip wrongly typed values.
	for _, d := range schemaDiags {
		covered := false
		for _, s := range v.diags {
			if s.Pointer == d.Pointer && (s.Rule == d.Rule ||
				(d.Rule != "DP100" && s.Rule != "DP104" && s.Rule != "DP004" && s.Rule != "DP103")) {
				covered = true
				break
			}
		}
		if !covered {
			v.diags = append(v.diags, d)
		}
	}
	v.checkShadowed()
	sortDiags(v.diags)
	return v.diags
}

// notPluginConfig tells why a decoded document is not a plugin config at
// all (JSON null, {}, a container image config, an object without a single
// plugin field), or "" when it is one. Non-objects are DP100.
func notPluginConfig(root *node) (msg, hint string) {
	const h = "check that this is a plugin's config.json (it has \"interface\", \"entrypoint\", ...)"
	switch root.kind {
	case kNull:
		return "the document is null, not a plugin config: dockerd reads it as an empty config and cannot enable it", h
	case kObject:
	default:
		return "", ""
	}
	image := false
	for _, m := range root.members {
		if f := configShape.lookup(m.key); f != nil && f.name != "rootfs" && f.name != "DockerVersion" {
			return "", ""
		}
		switch m.key {
		case "architecture", "os", "config", "history":
			image = true
		}
	}
	switch {
	case image:
		return "this is a container image config (architecture, os, rootfs.layers), not a plugin config: dockerd refuses to pull it as a plugin (\"did not find plugin config\")",
			"a plugin is built with `dplug build` or `docker plugin create`, not `docker build`"
	case len(root.members) == 0:
		return "the document is an empty object, not a plugin config: dockerd cannot enable it (no interface, no entrypoint)", h
	}
	return "the document has no plugin config field (interface, entrypoint, ...): not a plugin config", h
}

func sortDiags(diags []Diagnostic) {
	slices.SortStableFunc(diags, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column), cmp.Compare(a.Rule, b.Rule))
	})
}

// run is the state of validating one document.
type run struct {
	name  string
	kind  Kind
	aud   Audience
	root  *node
	li    lineIndex
	diags []Diagnostic
	index map[string]*node // pointer -> node, built on first use
	// shadowed are members overridden by a later duplicate key: dockerd
	// ignores their values but still fails to parse when their type is wrong.
	shadowed []*node
}

type posKind int

const (
	posKey   posKind = iota // at the member's key (the value for array elements)
	posValue                // at the value
)

// dref lets a caller add a hint to the diagnostic it just added.
type dref struct {
	v *run
	i int
}

// pointer sets the diagnostic's JSON pointer; it returns d for a hint.
func (d dref) pointer(p string) dref {
	d.v.diags[d.i].Pointer = p
	return d
}

func (d dref) hint(format string, args ...any) {
	d.v.diags[d.i].Hint = fmt.Sprintf(format, args...)
}

// add reports rule at node n.
func (v *run) add(rule string, n *node, at posKind, format string, args ...any) dref {
	off := n.off
	if at == posKey && n.keyOff >= 0 {
		off = n.keyOff
	}
	ptr := n.ptr
	if n.keyOff >= 0 && n.rawKey != "" {
		// a member: its own key, which may be a shadowed duplicate's
		if i := strings.LastIndexByte(ptr, '/'); i >= 0 {
			return v.addAt(rule, off, "", format, args...).pointer(v.rawPointer(ptr[:i]) + "/" + escapePointer(n.rawKey))
		}
	}
	return v.addAt(rule, off, "", format, args...).pointer(v.rawPointer(ptr))
}

// addAt reports rule at a byte offset.
func (v *run) addAt(rule string, off int, ptr, format string, args ...any) dref {
	line, col := v.li.pos(off)
	v.diags = append(v.diags, Diagnostic{
		File: v.name, Line: line, Column: col, Pointer: ptr,
		Severity: severityOf(rule, v.aud), Rule: rule, Message: fmt.Sprintf(format, args...),
	})
	return dref{v, len(v.diags) - 1}
}

// missing reports rule for a field absent from object parent, located at
// the parent's key (or its opening brace).
func (v *run) missing(rule string, parent *node, name, format string, args ...any) dref {
	off := parent.off
	if parent.keyOff >= 0 {
		off = parent.keyOff
	}
	return v.addAt(rule, off, "", format, args...).pointer(v.rawPointer(parent.ptr + "/" + name))
}

// where renders an offset as line:col for messages.
func (v *run) where(off int) string {
	l, c := v.li.pos(off)
	return fmt.Sprintf("%d:%d", l, c)
}

// syntaxHint suggests the likely fix for a JSON syntax error.
func syntaxHint(data []byte, e *syntaxError) string {
	var c byte
	if e.off < len(data) {
		c = data[e.off]
	}
	switch {
	case e.rule == "DP005":
		return "flatten the structure: nothing in a plugin config nests this deep"
	case strings.Contains(e.msg, "trailing comma"):
		return "remove the comma before it"
	case strings.Contains(e.msg, "truncated"), strings.Contains(e.msg, "is empty"):
		return "the file ends too early: complete it"
	case c == '#' || c == '/':
		return "JSON has no comments: remove them"
	case c == '\'':
		return "JSON strings and keys use double quotes"
	case strings.Contains(e.msg, "after top-level value"):
		return "remove what follows the closing brace of the config"
	case strings.Contains(e.msg, "key:value pair"), strings.Contains(e.msg, "after array element"):
		return "a comma is probably missing before this"
	case strings.Contains(e.msg, "in string literal"):
		return "escape control characters in strings (\\n, \\t)"
	}
	return "fix the JSON at this position"
}
