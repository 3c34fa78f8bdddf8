package scaffold

import (
	"bytes"
	"errors"
	"go/format"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/modfile"

	"github.com/dplug/dplug/plugin"
)

// exampleTypes are the types dplug ships an examples/ directory for.
var exampleTypes = []string{"volume", "authz", "ipam"}

func TestRender(t *testing.T) {
	for _, typ := range Types() {
		t.Run(typ, func(t *testing.T) {
			files, err := Render(typ, WithName("my-plug"), WithModule("example.org/me/my-plug"), WithDescription(`say "hi"`))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Path)
				if bytes.Contains(f.Data, []byte("<no value>")) || bytes.Contains(f.Data, []byte("{{")) {
					t.Errorf("%s: template left unrendered text", f.Path)
				}
				if strings.HasSuffix(f.Path, ".go") {
					formatted, err := format.Source(f.Data)
					if err != nil {
						t.Errorf("%s: %v", f.Path, err)
					} else if !bytes.Equal(formatted, f.Data) {
						t.Errorf("%s is not gofmt-formatted", f.Path)
					}
				}
			}
			want := []string{"Dockerfile", "README.md", "config.json", "go.mod", "go.sum", "main.go", "main_test.go", "serve.go"}
			if diff := cmp.Diff(want, names); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			cfg, err := plugin.Parse(file(t, files, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			wantCfg := struct {
				Description, Socket string
				Types, Entrypoint   []string
			}{`say "hi"`, "my-plug.sock", []string{kinds[typ].iface}, []string{"/my-plug"}}
			gotCfg := wantCfg
			gotCfg.Description, gotCfg.Socket, gotCfg.Types, gotCfg.Entrypoint = cfg.Description, cfg.Interface.Socket, cfg.Interface.Types, cfg.Entrypoint
			if diff := cmp.Diff(wantCfg, gotCfg); diff != "" {
				t.Errorf("config.json (-want +got):\n%s", diff)
			}
			mf, err := modfile.Parse("go.mod", file(t, files, "go.mod"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if mf.Module.Mod.Path != "example.org/me/my-plug" {
				t.Errorf("go.mod module = %q", mf.Module.Mod.Path)
			}
			if !bytes.Contains(file(t, files, "Dockerfile"), []byte("COPY --from=build /out/my-plug /my-plug")) {
				t.Errorf("Dockerfile does not install /my-plug")
			}
		})
	}
}

func file(t *testing.T, files []File, name string) []byte {
	t.Helper()
	for _, f := range files {
		if f.Path == name {
			return f.Data
		}
	}
	t.Fatalf("no %s rendered", name)
	return nil
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		opts []Option
		want string
	}{
		{"unknown type", "csi", nil, "unknown plugin type"},
		{"empty name", "volume", []Option{WithName("My Plugin")}, "invalid plugin name"},
		{"path in name", "volume", []Option{WithName("../x")}, "invalid plugin name"},
		{"bad module", "volume", []Option{WithModule("not a module")}, "invalid module path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.typ, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := Render("nope"); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v is not ErrUnknownType", err)
	}
}

func TestWriteRefusesOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proj")
	written, err := Write(dir, "volume", WithName("proj"))
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 8 {
		t.Errorf("wrote %d files, want 8: %v", len(written), written)
	}
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "main.go"))
	_, err = Write(dir, "volume", WithName("proj"))
	var ee *ExistsError
	if !errors.As(err, &ee) || !slices.Contains(ee.Paths, readme) {
		t.Fatalf("second Write error = %v, want ExistsError naming README.md", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused Write still wrote main.go")
	}
	if b, _ := os.ReadFile(readme); string(b) != "mine" {
		t.Errorf("refused Write changed README.md")
	}
	if _, err := Write(dir, "volume", WithName("proj"), WithForce(true)); err != nil {
		t.Fatalf("forced Write: %v", err)
	}
	if b, _ := os.ReadFile(readme); string(b) == "mine" {
		t.Errorf("forced Write left README.md alone")
	}
}

// TestExamplesUpToDate keeps examples/ equal to the templates rendered with
// Example options. DPLUG_UPDATE=1 rewrites them.
func TestExamplesUpToDate(t *testing.T) {
	update := os.Getenv("DPLUG_UPDATE") == "1"
	for _, typ := range exampleTypes {
		t.Run(typ, func(t *testing.T) {
			dir := filepath.Join("..", "examples", typ)
			files, err := Render(typ, Example(typ)...)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, f := range files {
				want[f.Path] = string(f.Data)
			}
			got := map[string]string{}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.IsDir() {
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				got[e.Name()] = string(b)
			}
			if update {
				for name := range got {
					if _, ok := want[name]; !ok {
						os.Remove(filepath.Join(dir, name))
					}
				}
				if _, err := Write(dir, typ, append(Example(typ), WithForce(true))...); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("examples/%s differs from the rendered templates (-want +got); run DPLUG_UPDATE=1 go test ./scaffold -run TestExamplesUpToDate:\n%s", typ, diff)
			}
		})
	}
}

// TestHelpersVersion keeps generated projects on the go-plugins-helpers
// version dplug's own module (and so its examples) builds with.
func TestHelpersVersion(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mf.Require {
		if r.Mod.Path == "github.com/docker/go-plugins-helpers" {
			if r.Mod.Version != HelpersVersion {
				t.Errorf("HelpersVersion = %s, dplug's go.mod has %s: update scaffold (and templates/common/go.sum.tmpl)", HelpersVersion, r.Mod.Version)
			}
			return
		}
	}
	t.Errorf("dplug's go.mod does not require github.com/docker/go-plugins-helpers")
}
