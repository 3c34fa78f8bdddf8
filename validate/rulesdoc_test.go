package validate

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// rulesDoc is the generated rule reference linked from the README.
// Regenerate with DPLUG_UPDATE=1 go test -run TestRulesDoc ./validate/
const rulesDoc = "../docs/rules.md"

func TestRulesDoc(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# dplug validate rules\n\n")
	b.WriteString("Generated from `validate.Rules`; every rule has a test that fails if the rule is removed.\n\n")
	b.WriteString("Each rule has a class (SPEC §3 severity policy), which decides its severity:\n\n")
	b.WriteString("- **refused**: dockerd refuses the config at create, enable or run (or crashes on it): an error everywhere.\n")
	b.WriteString("- **misleading**: dockerd accepts it, but the plugin runs differently from what is written: an error for the\n")
	b.WriteString("  author (`dplug validate`, `build`, `push DIR`), a warning stating the consequence when consuming a plugin\n")
	b.WriteString("  (`install`, `pull`, `run`, `test`; `validate.ForConsumer()`).\n")
	b.WriteString("- **advice**: works as written: a warning everywhere.\n\n")
	b.WriteString("The last column is what dockerd 20.10.24 and 26.1.5 (identical here) do with a config that triggers the rule:\n")
	b.WriteString("measured rule by rule through `docker plugin create`, `enable` and a real use (issue 10), completed from moby's\n")
	b.WriteString("source where no use was needed.\n\n")
	b.WriteString("| rule | class | author | consumer | what it finds | dockerd 20.10/26 behaviour |\n|---|---|---|---|---|---|\n")
	for _, r := range Rules {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.ID, r.Class, r.Class.Severity(Author), r.Class.Severity(Consumer),
			strings.ReplaceAll(r.Summary, "|", "\\|"), strings.ReplaceAll(r.Engine, "|", "\\|"))
	}
	if os.Getenv("DPLUG_UPDATE") == "1" {
		if err := os.WriteFile(rulesDoc, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(rulesDoc)
	if err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("docs/rules.md is stale: run DPLUG_UPDATE=1 go test -run TestRulesDoc ./validate/")
	}
}
