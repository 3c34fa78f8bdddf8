package validate

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// rulesDoc is the generated rule reference linked from the README.
// Regenerate with DPLUG_UPDATE_DOCS=1 go test -run TestRulesDoc ./validate/
const rulesDoc = "../docs/rules.md"

func TestRulesDoc(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# dplug validate rules\n\n")
	b.WriteString("Generated from `validate.Rules`; every rule has a test that fails if the rule is removed.\n\n")
	b.WriteString("| rule | severity | what it finds |\n|---|---|---|\n")
	for _, r := range Rules {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.ID, r.Severity, r.Summary)
	}
	if os.Getenv("DPLUG_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(rulesDoc, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(rulesDoc)
	if err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("docs/rules.md is stale: run DPLUG_UPDATE_DOCS=1 go test -run TestRulesDoc ./validate/")
	}
}
