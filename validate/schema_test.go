package validate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/dplug/dplug/schemas"
)

// TestShapesMatchSchemas keeps the key tables used for case normalisation
// and unknown-key detection identical to the embedded schemas' properties.
func TestShapesMatchSchemas(t *testing.T) {
	for _, tt := range []struct {
		name   string
		schema []byte
		shape  *shape
	}{
		{"config", schemas.PluginConfig, configShape},
		{"settings", schemas.PluginSettings, settingsShape},
	} {
		var doc map[string]any
		if err := json.Unmarshal(tt.schema, &doc); err != nil {
			t.Fatalf("%s schema: %v", tt.name, err)
		}
		if doc["$schema"] != "http://json-schema.org/draft-07/schema#" {
			t.Errorf("%s schema is not draft-07", tt.name)
		}
		compareShape(t, tt.name, doc, doc, tt.shape)
	}
}

func compareShape(t *testing.T, where string, root, s map[string]any, sh *shape) {
	t.Helper()
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		s = root["definitions"].(map[string]any)[name].(map[string]any)
	}
	if d, _ := s["description"].(string); d == "" {
		t.Errorf("%s: no description", where)
	}
	switch sh.kind {
	case kObject:
		props, _ := s["properties"].(map[string]any)
		var names []string
		for k := range props {
			if k != "$schema" {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		var want []string
		for _, f := range sh.fields {
			want = append(want, f.name)
		}
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("%s: schema properties %v, key table %v", where, names, want)
			return
		}
		for _, f := range sh.fields {
			compareShape(t, where+"."+f.name, root, props[f.name].(map[string]any), f.s)
		}
	case kArray:
		items, ok := s["items"].(map[string]any)
		if !ok {
			t.Errorf("%s: schema has no items", where)
			return
		}
		if sh.elem.kind != 0 {
			compareShape(t, where+"[]", root, items, sh.elem)
		}
	}
}

// TestSchemasCompile: both embedded schemas compile.
func TestSchemasCompile(t *testing.T) {
	for _, c := range []*compiled{&configSchema, &settingsSchema} {
		if _, err := c.get(); err != nil {
			t.Error(err)
		}
	}
}

// TestDependencyFence keeps validate light and portable: no cobra, BuildKit,
// libcontainer or go-containerregistry.
func TestDependencyFence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/spf13/cobra", "github.com/moby/buildkit", "github.com/opencontainers/runc", "github.com/google/go-containerregistry"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("validate depends on %s", dep)
			}
		}
	}
}

// TestSchemaForEditors: an editor applies the schema without dplug's case
// normalisation; configs in dockerd's canonical case pass as they are.
func TestSchemaForEditors(t *testing.T) {
	s, err := configSchema.get()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"24-rexray-rexray-ebs.json", "25-rexray-rexray-csi-nfs.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "corpus", f))
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Validate(gojsonschema.NewBytesLoader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Errors() {
			t.Errorf("%s: %s", f, e)
		}
	}
}
