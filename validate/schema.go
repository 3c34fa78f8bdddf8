package validate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/dplug/dplug/schemas"
	"github.com/xeipuuv/gojsonschema"
)

// compiled holds a schema compiled on first use, once per process.
type compiled struct {
	once   sync.Once
	src    []byte
	schema *gojsonschema.Schema
	err    error
}

func (c *compiled) get() (*gojsonschema.Schema, error) {
	c.once.Do(func() {
		c.schema, c.err = gojsonschema.NewSchema(gojsonschema.NewBytesLoader(c.src))
		if c.err != nil {
			c.err = fmt.Errorf("compiling embedded schema: %w", c.err)
		}
	})
	return c.schema, c.err
}

var (
	configSchema   = compiled{src: schemas.PluginConfig}
	settingsSchema = compiled{src: schemas.PluginSettings}
)

// schemaCheck validates the normalised tree against the embedded schema and
// maps each error to a rule and a position.
func (v *run) schemaCheck(root *node) []Diagnostic {
	c := &configSchema
	if v.kind == KindSettings {
		c = &settingsSchema
	}
	s, err := c.get()
	if err != nil {
		// The embedded schema is tested; this cannot happen in a release.
		return []Diagnostic{{File: v.name, Severity: Error, Rule: "DP105", Message: err.Error()}}
	}
	res, err := s.Validate(gojsonschema.NewRawLoader(toGo(root)))
	if err != nil {
		return []Diagnostic{{File: v.name, Severity: Error, Rule: "DP105", Message: fmt.Sprintf("validating against the schema: %v", err)}}
	}
	if res.Valid() {
		return nil
	}
	saved := v.diags
	v.diags = nil
	for _, e := range res.Errors() {
		ptr := contextPointer(e.Context())
		n := v.lookup(root, ptr)
		if n == nil {
			n = root
		}
		v.mapSchemaError(n, ptr, e)
	}
	out := v.diags
	v.diags = saved
	return out
}

func (v *run) mapSchemaError(n *node, ptr string, e gojsonschema.ResultError) {
	switch e.Type() {
	case "required":
		prop, _ := e.Details()["property"].(string)
		if prop == "Description" || prop == "Documentation" {
			v.missing("DP102", n, prop, "%s is missing: the Docker docs require it (dockerd does not enforce it)", strings.ToLower(prop)).
				hint("add %q", strings.ToLower(prop))
			return
		}
		v.missing("DP101", n, prop, "%s is missing: dockerd cannot enable the plugin without it", displayPath(ptr+"/"+prop)).
			hint("add %q", strings.ToLower(prop))
	case "invalid_type":
		if ptr == "" {
			what, file := "a plugin config", "config.json"
			if v.kind == KindSettings {
				what, file = "plugin settings", SettingsFile
			}
			v.add("DP100", n, posValue, "the document is %s, not %s (a JSON object): dockerd fails with \"failed to parse config\"", kindName(n.kind), what).
				hint("check that this is a plugin's %s", file)
			return
		}
		v.add("DP100", n, posValue, "%s is %s, want %s: dockerd fails with \"failed to parse config\"",
			displayPath(ptr), kindName(n.kind), expected(e.Details()["expected"])).
			hint("fix the type; see `dplug schema`")
	case "number_gte", "number_lte", "number_gt", "number_lt", "multiple_of":
		v.add("DP100", n, posValue, "%s is out of range (%s): dockerd fails with \"failed to parse config\"", displayPath(ptr), e.Description())
	default:
		if n.kind == kNull && strings.Contains(ptr, "/Settable/") {
			v.add("DP105", n, posValue, "%s is null: dockerd stores it as \"\", so `docker plugin set` answers \"is not settable\"", displayPath(ptr)).
				hint(`write the field name, e.g. "value", or remove it`)
			return
		}
		v.add("DP105", n, posValue, "%s: %s", displayPath(ptr), e.Description())
	}
}

// checkShadowed reports type errors in the values of duplicate keys that a
// later key overrides: encoding/json still decodes them, and fails on them.
// Each is validated in a document holding only that value at its place.
func (v *run) checkShadowed() {
	if len(v.shadowed) == 0 {
		return
	}
	c := &configSchema
	if v.kind == KindSettings {
		c = &settingsSchema
	}
	s, err := c.get()
	if err != nil {
		return
	}
	for _, sh := range v.shadowed {
		doc := toGo(sh)
		toks := strings.Split(sh.ptr[1:], "/")
		for i := len(toks) - 1; i >= 0; i-- {
			tok := strings.NewReplacer("~1", "/", "~0", "~").Replace(toks[i])
			if idx, err := strconv.Atoi(tok); err == nil && idx >= 0 && idx < 1<<16 {
				a := make([]any, idx+1)
				for j := range idx {
					a[j] = map[string]any{}
				}
				a[idx] = doc
				doc = a
			} else {
				doc = map[string]any{tok: doc}
			}
		}
		res, err := s.Validate(gojsonschema.NewRawLoader(doc))
		if err != nil || res.Valid() {
			continue
		}
		for _, e := range res.Errors() {
			ptr := contextPointer(e.Context())
			if e.Type() == "required" || (ptr != sh.ptr && !strings.HasPrefix(ptr, sh.ptr+"/")) {
				continue
			}
			n := lookupIn(sh, ptr[len(sh.ptr):])
			if n == nil {
				n = sh
			}
			v.mapSchemaError(n, ptr, e)
		}
	}
}

// lookupIn finds the node at relative pointer rel below n.
func lookupIn(n *node, rel string) *node {
	if rel == "" {
		return n
	}
	for _, tok := range strings.Split(rel[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		var next *node
		switch n.kind {
		case kObject:
			next = n.get(tok)
		case kArray:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.elems) {
				next = n.elems[i]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func expected(x any) string {
	s, _ := x.(string)
	s = strings.Trim(s, "[]")
	s = strings.ReplaceAll(s, ",", " or ")
	if s == "" {
		return "another type"
	}
	return s
}

func kindName(k byte) string {
	switch k {
	case kObject:
		return "an object"
	case kArray:
		return "an array"
	case kString:
		return "a string"
	case kNumber:
		return "a number"
	case kBool:
		return "a boolean"
	default:
		return "null"
	}
}

// displayPath renders a JSON pointer for a message: /Interface/Types/0 as
// interface.types[0]; "" as "the document".
func displayPath(ptr string) string {
	if ptr == "" {
		return "the document"
	}
	var b strings.Builder
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.ToLower(tok))
	}
	return b.String()
}

// contextPointer turns gojsonschema's "(root).a.b" context into a JSON
// pointer, splitting on a separator that keys cannot hold after
// normalisation of the known fields.
func contextPointer(c *gojsonschema.JsonContext) string {
	if c == nil {
		return ""
	}
	parts := strings.Split(c.String("\x00"), "\x00")
	var b strings.Builder
	for _, p := range parts[1:] {
		b.WriteByte('/')
		b.WriteString(escapePointer(p))
	}
	return b.String()
}

// lookup finds the node at ptr.
func (v *run) lookup(root *node, ptr string) *node {
	if v.index == nil {
		v.index = make(map[string]*node)
		var walk func(n *node)
		walk = func(n *node) {
			v.index[n.ptr] = n
			for _, m := range n.members {
				if m.ptr != "" {
					walk(m)
				}
			}
			for _, e := range n.elems {
				if e.ptr != "" {
					walk(e)
				}
			}
		}
		walk(root)
	}
	return v.index[ptr]
}

// maxNumberLen is the longest number literal handed to the schema as
// written; uint32 values need 10 digits.
const maxNumberLen = 32

// toGo converts a tree to the values gojsonschema expects (numbers as
// json.Number, so large integers keep their precision). Members of unknown
// keys are left out: dockerd ignores them and the schema allows them.
func toGo(n *node) any {
	switch n.kind {
	case kObject:
		m := make(map[string]any, len(n.members))
		for _, c := range n.members {
			if c.unknown {
				continue
			}
			m[c.key] = toGo(c)
		}
		return m
	case kArray:
		a := make([]any, len(n.elems))
		for i, e := range n.elems {
			a[i] = toGo(e)
		}
		return a
	case kString:
		return n.str
	case kNumber:
		if len(n.str) > maxNumberLen {
			// gojsonschema parses numbers as big rationals, super-linear in
			// the digits. The schema only constrains integers to uint32
			// range, so any number this long has the outcome of a huge one.
			if n.str[0] == '-' {
				return json.Number("-1e30")
			}
			return json.Number("1e30")
		}
		return json.Number(n.str)
	case kBool:
		return n.b
	default:
		return nil
	}
}
