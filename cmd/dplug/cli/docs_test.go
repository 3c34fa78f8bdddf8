package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra/doc"
)

// docsDir holds the generated command reference (Markdown, one file per
// command). TestDocsUpToDate fails when it is stale; regenerate with
//
//	DPLUG_UPDATE=1 go test -run TestDocsUpToDate ./cmd/dplug/cli/
const docsDir = "../../../docs/cli"

func TestDocsUpToDate(t *testing.T) {
	root := NewRoot(nil, new(bytes.Buffer), new(bytes.Buffer))
	// Defaults that depend on who runs the test would make the docs differ
	// between machines.
	root.PersistentFlags().Lookup("root").DefValue = "/var/lib/dplug"
	root.DisableAutoGenTag = true
	tmp := t.TempDir()
	if err := doc.GenMarkdownTree(root, tmp); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("DPLUG_UPDATE") == "1" {
		if err := os.RemoveAll(docsDir); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(docsDir, os.DirFS(tmp)); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, _ := filepath.Glob(filepath.Join(tmp, "*.md"))
	have, _ := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if len(want) != len(have) {
		t.Errorf("docs/cli has %d files, the commands need %d: run DPLUG_UPDATE=1 go test -run TestDocsUpToDate ./cmd/dplug/cli/", len(have), len(want))
	}
	for _, w := range want {
		got, err := os.ReadFile(filepath.Join(docsDir, filepath.Base(w)))
		exp, _ := os.ReadFile(w)
		if err != nil || !bytes.Equal(got, exp) {
			t.Errorf("docs/cli/%s is stale: run DPLUG_UPDATE=1 go test -run TestDocsUpToDate ./cmd/dplug/cli/", filepath.Base(w))
		}
	}
}
