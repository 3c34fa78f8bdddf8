package scaffold

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dplug/dplug/validate"
)

// TestConfigsValidate holds every scaffold and example config.json to
// `dplug validate --strict`: not a single diagnostic, warnings included.
func TestConfigsValidate(t *testing.T) {
	check := func(t *testing.T, name string, data []byte) {
		t.Helper()
		for _, d := range validate.Bytes(name, data) {
			t.Errorf("%s", d)
		}
	}
	for _, typ := range Types() {
		t.Run("scaffold/"+typ, func(t *testing.T) {
			files, err := Render(typ)
			if err != nil {
				t.Fatal(err)
			}
			check(t, typ+"/config.json", file(t, files, "config.json"))
		})
	}
	for _, typ := range exampleTypes {
		t.Run("example/"+typ, func(t *testing.T) {
			p := filepath.Join("..", "examples", typ, "config.json")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			check(t, p, data)
		})
	}
}
