package validate

import (
	"slices"
	"testing"
)

func TestDiagnosticString(t *testing.T) {
	tests := []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{File: "p/config.json", Line: 3, Column: 5, Severity: Error, Rule: "DP306", Message: "m", Hint: "h"},
			"p/config.json:3:5: error: m (DP306) hint: h"},
		{Diagnostic{File: "p/config.json", Line: 1, Column: 1, Severity: Warning, Rule: "DP103", Message: "m"},
			"p/config.json:1:1: warning: m (DP103)"},
		{Diagnostic{File: "big.json", Severity: Error, Rule: "DP003", Message: "m"},
			"big.json: error: m (DP003)"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	diags := []Diagnostic{
		{Rule: "DP103", Severity: Warning},
		{Rule: "DP306", Severity: Error},
		{Rule: "DP601", Severity: Warning},
		{Rule: "DP501", Severity: Error},
	}
	errs, warnings := Split(diags)
	rules := func(ds []Diagnostic) (r []string) {
		for _, d := range ds {
			r = append(r, d.Rule)
		}
		return r
	}
	if got := rules(errs); !slices.Equal(got, []string{"DP306", "DP501"}) {
		t.Errorf("errors = %v", got)
	}
	if got := rules(warnings); !slices.Equal(got, []string{"DP103", "DP601"}) {
		t.Errorf("warnings = %v", got)
	}
}
