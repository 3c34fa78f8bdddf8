package validate

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigError(t *testing.T) {
	e1 := Diagnostic{Rule: "DP001", Severity: Error, File: "c.json", Line: 1, Column: 2, Message: "first"}
	w := Diagnostic{Rule: "DP002", Severity: Warning, File: "c.json", Line: 2, Column: 1, Message: "careful"}
	e2 := Diagnostic{Rule: "DP003", Severity: Error, File: "c.json", Line: 3, Column: 1, Message: "second"}
	if err := NewConfigError("c.json", []Diagnostic{w}); err != nil {
		t.Fatalf("warnings only: %v, want nil", err)
	}
	tests := []struct {
		name  string
		diags []Diagnostic
		want  string
	}{
		{"one", []Diagnostic{e1, w}, "invalid plugin config, 1 error (fix them; `dplug validate` checks again):\n  " + e1.String()},
		{"two", []Diagnostic{e1, w, e2}, "invalid plugin config, 2 errors (fix them; `dplug validate` checks again):\n  " + e1.String() + "\n  " + e2.String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("./p: %w", NewConfigError("c.json", tc.diags))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%v is not a *ConfigError", err)
			}
			if diff := cmp.Diff("./p: "+tc.want, err.Error()); diff != "" {
				t.Errorf("Error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]Diagnostic{w}, ce.Warnings()); diff != "" {
				t.Errorf("Warnings (-want +got):\n%s", diff)
			}
			if n := len(ce.Errors()) + len(ce.Warnings()); n != len(tc.diags) {
				t.Errorf("Errors+Warnings = %d diagnostics, want %d", n, len(tc.diags))
			}
		})
	}
}
