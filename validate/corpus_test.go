package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// updateGolden rewrites the golden files instead of comparing with them:
// DPLUG_UPDATE=1 go test ./validate/
var updateGolden = os.Getenv("DPLUG_UPDATE") == "1"

// TestCorpus validates real-world configs that dockerd accepted
// (testdata/corpus, see SOURCES.md) against golden diagnostics of the
// author view (dplug validate). In the consumer view (install, pull, run,
// test) none of the .json files may produce an error: dplug must never
// refuse what dockerd accepts and enables. (.json.txt files are not valid
// JSON.)
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.json*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			diags := Bytes(filepath.Base(f), data, WithKind(KindConfig))
			var buf bytes.Buffer
			if err := WriteText(&buf, diags); err != nil {
				t.Fatal(err)
			}
			golden := f + ".golden"
			if updateGolden {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with DPLUG_UPDATE=1 to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("diagnostics differ from %s (-want +got):\n%s", golden, diff)
			}
			if strings.HasSuffix(f, ".json") {
				for _, d := range Bytes(filepath.Base(f), data, WithKind(KindConfig), ForConsumer()) {
					if d.Severity == Error {
						t.Errorf("dockerd accepts this config, but: %s", d)
					}
				}
			}
		})
	}
}
